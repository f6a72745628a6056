import http from 'node:http'
import type { Socket } from 'node:net'

export interface HttpAnswer { status: number, headers: http.IncomingHttpHeaders, body: string }

/** One HTTP request to the bench servers (127.0.0.1 only), body read as text. */
export async function request (url: string, options: { method?: string, headers?: Record<string, string>, body?: string, agent?: http.Agent | false } = {}): Promise<HttpAnswer> {
  const target = new URL(url)
  if (target.hostname !== '127.0.0.1') throw new Error(`the bench only talks to 127.0.0.1, not ${target.hostname}`)
  return await new Promise((resolve, reject) => {
    const req = http.request(target, {
      method: options.method ?? 'GET',
      headers: options.body === undefined ? options.headers : { ...options.headers, 'content-length': String(Buffer.byteLength(options.body)) },
      agent: options.agent
    }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { body += chunk })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, headers: res.headers, body }) })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.setTimeout(30_000, () => { req.destroy(new Error(`timeout: ${options.method ?? 'GET'} ${url}`)) })
    req.end(options.body)
  })
}

export interface SseEvent { event: string, data: string }

/**
 * A legacy SSE client session held open on its own socket: parses events, hands `message` events to whoever
 * waits for their JSON-RPC id.
 */
export class SseClient {
  sessionId = ''
  endpoint = ''
  private buffer = ''
  private readonly waiters = new Map<unknown, (message: Record<string, unknown>) => void>()
  private socket: Socket | undefined
  private res: http.IncomingMessage | undefined
  readonly closed: Promise<void>
  private markClosed!: () => void

  private constructor () {
    this.closed = new Promise((resolve) => { this.markClosed = resolve })
  }

  /** Opens `GET /sse` and resolves once the endpoint event arrived; rejects with the status on refusal. */
  static async open (baseUrl: string, headers: Record<string, string>): Promise<SseClient> {
    const client = new SseClient()
    await new Promise<void>((resolve, reject) => {
      const req = http.get(`${baseUrl}/sse`, { headers: { accept: 'text/event-stream', ...headers }, agent: false }, (res) => {
        client.res = res
        client.socket = res.socket
        if (res.statusCode !== 200) {
          res.resume()
          reject(Object.assign(new Error(`GET /sse answered ${String(res.statusCode)}`), { status: res.statusCode }))
          return
        }
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          client.buffer += chunk
          let end = client.buffer.indexOf('\n\n')
          while (end !== -1) {
            const block = client.buffer.slice(0, end)
            client.buffer = client.buffer.slice(end + 2)
            const event = parseEvent(block)
            if (event !== undefined) {
              if (event.event === 'endpoint') {
                client.endpoint = event.data
                client.sessionId = new URL(event.data, baseUrl).searchParams.get('sessionId') ?? ''
                resolve()
              } else if (event.event === 'message') {
                client.deliver(JSON.parse(event.data) as Record<string, unknown>)
              }
            }
            end = client.buffer.indexOf('\n\n')
          }
        })
        res.on('close', () => { client.markClosed() })
        res.on('error', () => {})
      })
      req.on('error', (error) => { client.markClosed(); reject(error) })
      req.on('close', () => { client.markClosed() })
    })
    return client
  }

  /** Resolves with the JSON-RPC message carrying this id when it arrives on the stream. */
  waitFor (id: unknown): Promise<Record<string, unknown>> {
    return new Promise((resolve) => { this.waiters.set(id, resolve) })
  }

  /** Half-closes our side (FIN), as a client that quits politely does; resolves when the socket is gone. */
  async close (): Promise<void> {
    this.socket?.end()
    // The server answers the FIN by closing its side; if it does not within 2 s, stop waiting for it.
    const timer = setTimeout(() => { this.res?.destroy() }, 2_000)
    await this.closed
    clearTimeout(timer)
  }

  /** Resets the connection (RST), as a client that crashes or loses its network does. */
  async destroy (): Promise<void> {
    const socket = this.socket
    if (socket !== undefined && !socket.destroyed) socket.resetAndDestroy()
    else this.res?.destroy()
    await this.closed
  }

  private deliver (message: Record<string, unknown>): void {
    const resolve = this.waiters.get(message.id)
    if (resolve === undefined) return
    this.waiters.delete(message.id)
    resolve(message)
  }
}

function parseEvent (block: string): SseEvent | undefined {
  let event = ''
  const data: string[] = []
  for (const line of block.split('\n')) {
    if (line.startsWith('event:')) event = line.slice(6).trim()
    else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''))
  }
  if (event === '' && data.length === 0) return undefined
  return { event: event === '' ? 'message' : event, data: data.join('\n') }
}
