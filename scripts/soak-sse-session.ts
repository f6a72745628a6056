import http from 'node:http'
import type { Socket } from 'node:net'

/** A legacy SSE session on its own socket that sees every message on its stream, expected or not. */
export class SseSession {
  endpoint = ''
  sessionId = ''
  socket: Socket | undefined
  private buffer = ''
  onMessage: (message: any) => void = () => {}
  closed!: Promise<void>

  async open (base: string, token: string): Promise<this> {
    let markClosed!: () => void
    this.closed = new Promise((resolve) => { markClosed = resolve })
    await new Promise<void>((resolve, reject) => {
      const req = http.get(`${base}/sse`, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' }, agent: false }, (res) => {
        this.socket = res.socket
        res.on('close', markClosed)
        res.on('error', () => {})
        if (res.statusCode !== 200) {
          res.resume()
          reject(new Error(`GET /sse answered ${String(res.statusCode)}`))
          return
        }
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          this.buffer += chunk
          for (let end = this.buffer.indexOf('\n\n'); end !== -1; end = this.buffer.indexOf('\n\n')) {
            const block = this.buffer.slice(0, end)
            this.buffer = this.buffer.slice(end + 2)
            const event = /^event: (.*)$/m.exec(block)?.[1]
            const data = /^data: (.*)$/m.exec(block)?.[1]
            if (event === 'endpoint' && data !== undefined) {
              this.endpoint = data
              this.sessionId = new URL(data, base).searchParams.get('sessionId') ?? ''
              resolve()
            } else if (event === 'message' && data !== undefined) {
              this.onMessage(JSON.parse(data))
            }
          }
        })
      })
      req.on('error', (error) => { markClosed(); reject(error) })
    })
    return this
  }

  /** FIN, as a client that quits politely; RST, as one that crashes or loses its network. */
  async close (abrupt: boolean): Promise<void> {
    if (abrupt) this.socket?.resetAndDestroy()
    else this.socket?.end()
    const timer = setTimeout(() => { this.socket?.destroy() }, 2_000)
    await this.closed
    clearTimeout(timer)
  }
}
