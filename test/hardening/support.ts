import { request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http'
import { connect } from 'node:net'
import assert from 'node:assert/strict'

/**
 * Raw wire helpers for the hardening tests. Not fetch: fetch adds headers of its own (a text/plain Content-Type
 * for string bodies, an Accept, a User-Agent) and refuses some, and these tests must send exactly what they say.
 */
export interface WireRequest {
  method?: string
  /** Path and query, e.g. `/mcp` or `/messages?sessionId=x`. */
  path: string
  headers?: OutgoingHttpHeaders
  /** Sent as is when a string; an object is sent as JSON. */
  body?: string | object
}

export interface WireResponse {
  status: number
  headers: IncomingHttpHeaders
  text: string
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: any
}

function parseJson (text: string): unknown {
  try { return JSON.parse(text) } catch { return undefined }
}

/** One request on a connection of its own (no agent, so nothing lingers), read to the end of its body. */
export async function send (baseUrl: string, wire: WireRequest, timeoutMs = 10_000): Promise<WireResponse> {
  const body = wire.body === undefined ? undefined : typeof wire.body === 'string' ? wire.body : JSON.stringify(wire.body)
  return await new Promise((resolve, reject) => {
    const options = { method: wire.method ?? 'POST', headers: wire.headers ?? {}, agent: false, timeout: timeoutMs }
    const outgoing = httpRequest(new URL(wire.path, baseUrl), options, (incoming) => {
      const chunks: Buffer[] = []
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk))
      incoming.on('error', reject)
      incoming.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        resolve({ status: incoming.statusCode ?? 0, headers: incoming.headers, text, json: parseJson(text) })
      })
    })
    outgoing.on('timeout', () => { outgoing.destroy(new Error(`${wire.method ?? 'POST'} ${wire.path}: no complete answer within ${timeoutMs} ms`)) })
    outgoing.on('error', reject)
    outgoing.end(body)
  })
}

/**
 * Writes `bytes` on a plain socket, exactly as given (malformed HTTP included), and resolves with the status and
 * body of the first response once the server closes the connection or `ms` passes.
 */
export async function sendRaw (baseUrl: string, bytes: string | Buffer, ms = 3000): Promise<{ status: number, head: string, text: string, json: any }> {
  const { hostname, port } = new URL(baseUrl)
  return await new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname)
    let received = ''
    const finish = (): void => {
      clearTimeout(timer)
      socket.destroy()
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(received)?.[1] ?? 0)
      const split = received.indexOf('\r\n\r\n')
      const head = split === -1 ? received : received.slice(0, split)
      const text = split === -1 ? '' : Buffer.from(received.slice(split + 4), 'latin1').toString('utf8')
      resolve({ status, head, text, json: parseJson(text) })
    }
    const timer = setTimeout(finish, ms)
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => { received += chunk })
    socket.on('end', finish)
    socket.on('close', finish)
    socket.on('error', (error) => { if (received === '') reject(error); else finish() })
    socket.write(bytes)
  })
}

/** A JSON-RPC 2.0 response as the spec shapes it: an id, and exactly one of a result object or an error object. */
export function assertJsonRpcResponse (value: unknown, label: string): void {
  assert.ok(typeof value === 'object' && value !== null && !Array.isArray(value), `${label}: a JSON object, got ${JSON.stringify(value)}`)
  const message = value as Record<string, unknown>
  assert.equal(message.jsonrpc, '2.0', `${label}: "jsonrpc": "2.0"`)
  assert.ok(message.id === null || typeof message.id === 'string' || (typeof message.id === 'number' && Number.isFinite(message.id)),
    `${label}: the id is a string, a number or null, got ${JSON.stringify(message.id)}`)
  const hasResult = 'result' in message
  const hasError = 'error' in message
  assert.ok(hasResult !== hasError, `${label}: exactly one of result and error`)
  if (hasResult) {
    assert.ok(typeof message.result === 'object' && message.result !== null && !Array.isArray(message.result), `${label}: the result is an object`)
    return
  }
  const error = message.error as Record<string, unknown>
  assert.ok(typeof error === 'object' && error !== null, `${label}: the error is an object`)
  assert.ok(Number.isInteger(error.code), `${label}: the error code is an integer, got ${JSON.stringify(error.code)}`)
  assert.equal(typeof error.message, 'string', `${label}: the error message is a string`)
}

/** Any server-sent message: a response, or a request/notification the server sends (progress, log messages). */
export function assertJsonRpcMessage (value: unknown, label: string): void {
  if (typeof value === 'object' && value !== null && 'method' in value) {
    assert.equal((value as { jsonrpc?: unknown }).jsonrpc, '2.0', `${label}: "jsonrpc": "2.0"`)
    assert.equal(typeof (value as { method?: unknown }).method, 'string', `${label}: the method is a string`)
    return
  }
  assertJsonRpcResponse(value, label)
}

/** The `data:` payloads of an event-stream body, one per event that has data. */
export function eventData (text: string): string[] {
  return text.split('\n\n')
    .map((block) => block.split('\n').filter((line) => line.startsWith('data:')).map((line) => line.slice(5).replace(/^ /, '')).join('\n'))
    .filter((data) => data !== '')
}

/** Records 'unhandledRejection' and 'uncaughtException' for the rest of the test; the listeners go when it ends. */
export function watchProcessFaults (t: { after: (fn: () => void) => void }): string[] {
  const faults: string[] = []
  const onRejection = (reason: unknown): void => { faults.push(`unhandledRejection: ${String((reason as Error)?.stack ?? reason)}`) }
  const onException = (error: Error): void => { faults.push(`uncaughtException: ${String(error?.stack ?? error)}`) }
  process.on('unhandledRejection', onRejection)
  process.on('uncaughtException', onException)
  t.after(() => {
    process.off('unhandledRejection', onRejection)
    process.off('uncaughtException', onException)
  })
  return faults
}

/**
 * Sends a request head announcing `bodyBytes` bytes of body, then keeps sending the body as fast as the socket
 * takes it, whatever the server answers meanwhile: a client that writes all before it reads, as most do.
 * Resolves with the status of the answer once it has been read whole, or 0 when the connection ended first
 * (a reset or EPIPE that wiped the answer).
 */
export async function sendWhileRefused (baseUrl: string, headerLines: readonly string[], bodyBytes: number): Promise<number> {
  const { hostname, port, host } = new URL(baseUrl)
  const chunk = Buffer.alloc(64 * 1024, 'a')
  return await new Promise((resolve) => {
    const socket = connect(Number(port), hostname)
    let received = ''
    let sent = 0
    const finish = (status: number): void => {
      socket.destroy()
      resolve(status)
    }
    socket.setEncoding('latin1')
    socket.on('connect', () => {
      socket.write(`POST /mcp HTTP/1.1\r\nHost: ${host}\r\n${headerLines.map((line) => `${line}\r\n`).join('')}Content-Length: ${bodyBytes}\r\n\r\n`)
      const pump = (): void => {
        while (sent < bodyBytes && !socket.destroyed) {
          const piece = chunk.subarray(0, Math.min(chunk.length, bodyBytes - sent))
          sent += piece.length
          if (!socket.write(piece)) {
            socket.once('drain', pump)
            return
          }
        }
      }
      pump()
    })
    socket.on('data', (text: string) => {
      received += text
      const split = received.indexOf('\r\n\r\n')
      if (split === -1) return
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(received.slice(0, split))?.[1] ?? 0)
      if (received.length - split - 4 >= length) finish(Number(/^HTTP\/1\.1 (\d{3})/.exec(received)?.[1] ?? 0))
    })
    socket.on('error', () => { finish(0) })
    socket.on('close', () => { finish(0) })
  })
}

/**
 * Opens a connection, writes `start`, then `drip` every `everyMs` (a client that trickles its request). Resolves
 * with what the server answered (head and body) once it closed the connection; rejects if it is still open after
 * `waitMs`.
 */
export async function trickle (baseUrl: string, start: string, drip: string, everyMs: number, waitMs: number): Promise<{ head: string, body: string }> {
  const { hostname, port } = new URL(baseUrl)
  return await new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname)
    let received = ''
    const dripping = setInterval(() => { if (!socket.destroyed && drip !== '') socket.write(drip) }, everyMs)
    const timer = setTimeout(() => {
      clearInterval(dripping)
      socket.destroy()
      reject(new Error(`the server still held the connection ${waitMs} ms on (answer: ${JSON.stringify(received.split('\r\n')[0])})`))
    }, waitMs)
    socket.setEncoding('latin1')
    socket.on('connect', () => { socket.write(start) })
    socket.on('data', (text: string) => { received += text })
    socket.on('error', () => { /* the close that follows settles it */ })
    socket.on('close', () => {
      clearInterval(dripping)
      clearTimeout(timer)
      const split = received.indexOf('\r\n\r\n')
      resolve({ head: split === -1 ? received : received.slice(0, split), body: split === -1 ? '' : received.slice(split + 4) })
    })
  })
}

/** A POST head announcing a 1 MB body and its first byte, then one more byte every `everyMs`: see `trickle`. */
export async function trickleBody (baseUrl: string, headerLines: readonly string[], everyMs: number, waitMs: number): Promise<{ head: string, body: string }> {
  const { host } = new URL(baseUrl)
  const head = `POST /mcp HTTP/1.1\r\nHost: ${host}\r\n${headerLines.map((line) => `${line}\r\n`).join('')}Content-Length: 1000000\r\n\r\n{`
  return await trickle(baseUrl, head, 'a', everyMs, waitMs)
}

/** A raw connection from a chosen loopback address (127.0.0.2 is another client than 127.0.0.1 to the server). */
export interface RawConnection {
  /** Sends bytes (none: just wait) and resolves with the next answer (status, head, body), read whole by its Content-Length. */
  request: (bytes: string) => Promise<{ status: number, head: string, body: string }>
  /** Resolves once the server has closed the connection. */
  closed: Promise<void>
  close: () => void
}

export async function openConnection (baseUrl: string, localAddress = '127.0.0.1'): Promise<RawConnection> {
  const { hostname, port } = new URL(baseUrl)
  const socket = connect({ port: Number(port), host: hostname, localAddress })
  socket.setEncoding('latin1')
  socket.on('error', () => { /* seen as a close */ })
  const closed = new Promise<void>((resolve) => socket.once('close', () => { resolve() }))
  let received = ''
  let waiting: (() => void) | undefined
  socket.on('data', (text: string) => { received += text; waiting?.() })
  await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject) })
  async function request (bytes: string): Promise<{ status: number, head: string, body: string }> {
    if (bytes !== '') socket.write(bytes)
    return await new Promise((resolve, reject) => {
      const check = (): void => {
        const split = received.indexOf('\r\n\r\n')
        if (split === -1) return
        const head = received.slice(0, split)
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0)
        if (received.length - split - 4 < length) return
        waiting = undefined
        const body = received.slice(split + 4, split + 4 + length)
        received = received.slice(split + 4 + length)
        resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), head, body })
      }
      waiting = check
      check()
      closed.then(() => { if (waiting === check) reject(new Error(`the connection closed without a whole answer: ${JSON.stringify(received.slice(0, 200))}`)) }, reject)
    })
  }
  return { request, closed, close: () => { socket.destroy() } }
}
