import { get, type IncomingHttpHeaders } from 'node:http'
import { connect, type Socket } from 'node:net'
import { Readable } from 'node:stream'
import type { TestContext } from 'node:test'
import { AUTH_HEADER } from './app.js'
import { post, request, type RawResponse } from './raw-http.js'
import { SseReader } from './sse-reader.js'

/** A raw legacy SSE session: the open stream, and where to POST its messages. */
export interface RawSseSession {
  response: Response
  reader: SseReader
  sessionId: string
  /** The `endpoint` event's data as sent, e.g. `/messages?sessionId=...`. */
  endpoint: string
  /** The absolute URL to POST messages to. */
  messagesUrl: string
  /** POSTs one JSON-RPC message (or raw text) to this session, with the test token unless told otherwise. */
  send: (body: unknown, headers?: Record<string, string>) => Promise<RawResponse>
  /** Reads the next `message` event and parses its data. */
  nextMessage: () => Promise<any>
  /** Drops the connection, as a client that goes away would. */
  disconnect: () => void
}

/**
 * `GET url` on a connection of its own, as a fetch `Response`. Not fetch itself: after an aborted fetch, Node's
 * fetch opens a spare connection that never sends a request, and Node's `closeIdleConnections()` leaves such
 * a connection open, so `app.close()` would wait for it to time out.
 */
async function getStream (url: string, headers: Record<string, string>): Promise<{ response: Response, destroy: () => void }> {
  return await new Promise((resolve, reject) => {
    const outgoing = get(url, { headers, agent: false }, (incoming) => {
      const response = new Response(Readable.toWeb(incoming) as ReadableStream<Uint8Array>, {
        status: incoming.statusCode,
        headers: headerPairs(incoming.headers)
      })
      resolve({ response, destroy: () => { outgoing.destroy() } })
    })
    outgoing.on('error', reject)
  })
}

function headerPairs (headers: IncomingHttpHeaders): Array<[string, string]> {
  return Object.entries(headers).flatMap(([name, value]) =>
    value === undefined ? [] : (Array.isArray(value) ? value : [value]).map((one): [string, string] => [name, one]))
}

/** Opens `GET <baseUrl>/sse` and reads its `endpoint` event; the connection is dropped when the test ends. */
export async function openSse (t: TestContext, baseUrl: string, headers: Record<string, string> = AUTH_HEADER): Promise<RawSseSession> {
  const { response, destroy } = await getStream(`${baseUrl}/sse`, headers)
  t.after(destroy)
  if (response.status !== 200) throw new Error(`GET /sse answered ${response.status}: ${await response.text()}`)
  const reader = new SseReader(response)
  const first = await reader.nextEvent()
  if (first?.event !== 'endpoint') throw new Error(`expected an endpoint event first, got ${JSON.stringify(first)}`)
  const messagesUrl = new URL(first.data, baseUrl).href
  const sessionId = new URL(messagesUrl).searchParams.get('sessionId') ?? ''
  return {
    response,
    reader,
    sessionId,
    endpoint: first.data,
    messagesUrl,
    send: async (body, extra = AUTH_HEADER) => await post(messagesUrl, body, extra),
    nextMessage: async () => {
      const event = await reader.nextEvent()
      if (event === undefined) throw new Error('the stream ended')
      if (event.event !== 'message') throw new Error(`expected a message event, got ${event.event}`)
      return JSON.parse(event.data)
    },
    disconnect: destroy
  }
}

/** `GET <baseUrl>/health/sse` as JSON. */
export async function sseHealth (baseUrl: string): Promise<{ sessions: number, maxSessions: number, idleTimeoutMs: number }> {
  return (await request(`${baseUrl}/health/sse`)).json
}

/** Polls until `check` holds, or fails after `timeoutMs` (generous: these wait for the server, not measure it). */
export async function waitFor (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 1000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/**
 * A client that opens `/sse` on a plain socket, reads as far as the session id, then never reads again: the
 * server's writes pile up in its buffers. The socket is destroyed when the test ends.
 */
export async function openStalledSse (t: TestContext, baseUrl: string, token: string): Promise<{ socket: Socket, sessionId: string }> {
  const { hostname, port, pathname } = new URL(baseUrl)
  const socket = connect(Number(port), hostname)
  t.after(() => { socket.destroy() })
  socket.setEncoding('utf8')
  socket.write(`GET ${pathname.replace(/\/$/, '')}/sse HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAuthorization: Bearer ${token}\r\n\r\n`)
  const sessionId = await new Promise<string>((resolve, reject) => {
    let received = ''
    socket.on('error', reject)
    socket.on('data', function onData (chunk: string) {
      received += chunk
      const match = /sessionId=([^\s&]+)\n/.exec(received)
      if (match === null) return
      socket.off('data', onData)
      socket.pause()
      resolve(match[1])
    })
  })
  return { socket, sessionId }
}
