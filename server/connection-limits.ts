import { createServer, STATUS_CODES, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { lingeringClose } from '../plugin/transports/http/lingering-close.js'
import type { ServerSettings } from './server-settings.js'

/**
 * `node server`'s connection-level defences, below Fastify: how long a request may take to arrive (headers, then
 * the whole of it), how long an idle keep-alive connection stays open, and how many connections one client
 * address, and everyone together, may hold. A connection over a cap is answered at once (429 or 503, with a
 * JSON-RPC error and Retry-After) and closed, before Node's HTTP parser ever sees it.
 */
export type ConnectionSettings = Pick<ServerSettings,
  'requestTimeoutMs' | 'headersTimeoutMs' | 'keepAliveTimeoutMs' | 'maxConnections' | 'maxConnectionsPerAddress'>

interface Log { warn: (object: object, message: string) => void }

/**
 * Node lowers the request timeout to the headers timeout only at construction: a headers timeout set above the
 * request timeout afterwards swaps the two (a 30 s request timeout beside the default 60 s headers timeout gives
 * 60 s). The headers timeout is therefore capped at the request timeout here, and both are set together.
 */
export function effectiveTimeouts (settings: ConnectionSettings): { requestTimeout: number, headersTimeout: number, connectionsCheckingInterval: number } {
  const requestTimeout = settings.requestTimeoutMs
  const headersTimeout = requestTimeout > 0 && settings.headersTimeoutMs > 0 ? Math.min(settings.headersTimeoutMs, requestTimeout) : settings.headersTimeoutMs
  // Node checks the deadlines every connectionsCheckingInterval (30 s by default, which would add up to 30 s).
  const shortest = Math.min(...[requestTimeout, headersTimeout].filter((ms) => ms > 0), 4_000)
  return { requestTimeout, headersTimeout, connectionsCheckingInterval: Math.max(100, Math.round(shortest / 4)) }
}

function jsonRpcAnswer (status: number, message: string, headers: Record<string, string> = {}): string {
  const body = JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32000, message } })
  const lines = Object.entries({ 'Content-Type': 'application/json; charset=utf-8', ...headers, Connection: 'close', 'Content-Length': String(Buffer.byteLength(body)) })
  return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n${lines.map(([name, value]) => `${name}: ${value}`).join('\r\n')}\r\n\r\n${body}`
}

/** How long a refused connection may go on sending before it is cut. */
const REFUSED_LINGER_MS = 1_000

function refuse (socket: Socket, answer: string): void {
  socket.on('error', () => { /* a client that resets a refused connection is no concern */ })
  socket.write(answer)
  lingeringClose(socket, REFUSED_LINGER_MS)
}

/** Counts connections by client address and in total, and turns away one more than the caps allow. */
function gateConnections (server: Server, settings: ConnectionSettings, log: Log, open: Set<Socket>): void {
  const perAddress = new Map<string, number>()
  const refusing = new Set<string>()
  let total = 0
  // Node's own handler (it attaches the HTTP parser) runs only for the connections the gate lets through.
  const handlers = server.listeners('connection') as Array<(this: Server, socket: Socket) => void>
  server.removeAllListeners('connection')

  function release (address: string): void {
    total--
    const held = (perAddress.get(address) ?? 1) - 1
    if (held === 0) perAddress.delete(address)
    else perAddress.set(address, held)
    refusing.delete(address)
  }

  server.on('connection', function gate (this: Server, socket: Socket) {
    const address = socket.remoteAddress ?? 'unknown'
    const held = perAddress.get(address) ?? 0
    const overTotal = total >= settings.maxConnections
    if (overTotal || (settings.maxConnectionsPerAddress > 0 && held >= settings.maxConnectionsPerAddress)) {
      const key = overTotal ? '' : address
      if (!refusing.has(key)) {
        refusing.add(key)
        log.warn(overTotal ? { connections: total, limit: settings.maxConnections } : { address, connections: held, limit: settings.maxConnectionsPerAddress },
          overTotal ? 'Refusing new connections: the server holds MCP_MAX_CONNECTIONS' : 'Refusing new connections from a client address that holds MCP_MAX_CONNECTIONS_PER_ADDRESS')
      }
      refuse(socket, overTotal
        ? jsonRpcAnswer(503, `Service Unavailable: this server holds its maximum of ${settings.maxConnections} connections; retry shortly`, { 'Retry-After': '5' })
        : jsonRpcAnswer(429, `Too Many Requests: your address already holds ${settings.maxConnectionsPerAddress} connections to this server, ` +
          'the limit per client address; reuse or close the ones you have, and retry', { 'Retry-After': '5' }))
      return
    }
    total++
    perAddress.set(address, held + 1)
    open.add(socket)
    socket.once('close', () => {
      if (total === settings.maxConnections) refusing.delete('')
      release(address)
      open.delete(socket)
    })
    for (const handler of handlers) handler.call(this, socket)
  })
}

/** The response a connection is serving or served last. */
const CURRENT_RESPONSE = Symbol('currentResponse')
type TrackedSocket = Socket & { [CURRENT_RESPONSE]?: ServerResponse }

/** A connection holds a call (or a stream) while its request has arrived whole and its answer is not finished. */
function holdsCall (socket: TrackedSocket): boolean {
  const response = socket[CURRENT_RESPONSE]
  return response !== undefined && response.req.complete && !response.writableFinished
}

export interface ConnectionLimits {
  /**
   * Fastify's `serverFactory`: the HTTP server with the timeouts and the connection caps. (With a server factory,
   * Fastify binds one address: `localhost` is served on the address it resolves to first.)
   */
  serverFactory: (handler: RequestListener<typeof IncomingMessage, typeof ServerResponse>) => Server
  /**
   * For a drain: closes every connection that holds no call, whether idle, still receiving its request (a slow
   * body or headers) or lingering after a refusal. Those with a call or stream in progress are left to finish.
   */
  closeConnectionsWithoutCalls: () => number
}

export function createConnectionLimits (settings: ConnectionSettings, log: () => Log): ConnectionLimits {
  const open = new Set<TrackedSocket>()
  return {
    serverFactory (handler) {
      const server = createServer(effectiveTimeouts(settings), function track (request, response) {
        // One property write per request: which response each connection is busy with, for the drain.
        (request.socket as TrackedSocket)[CURRENT_RESPONSE] = response
        handler(request, response)
      })
      server.keepAliveTimeout = settings.keepAliveTimeoutMs
      gateConnections(server, settings, { warn: (object, message) => { log().warn(object, message) } }, open)
      return server
    },
    closeConnectionsWithoutCalls () {
      let closed = 0
      for (const socket of open) {
        if (holdsCall(socket)) continue
        socket.destroy()
        closed++
      }
      return closed
    }
  }
}

/**
 * Fastify's `clientErrorHandler`: a request that did not arrive in time gets 408 with a JSON-RPC error body (then
 * a lingering close, so that a client still sending reads it); malformed HTTP gets 400 or 431, as Fastify answers.
 */
export function answerClientError (error: NodeJS.ErrnoException, socket: Socket, settings: ConnectionSettings): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return
  // Our side is already closed (a refusal is lingering): nothing more to say, and the linger ends it.
  if (!socket.writable) return
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    const { requestTimeout, headersTimeout } = effectiveTimeouts(settings)
    socket.write(jsonRpcAnswer(408, `Request Timeout: the request did not arrive whole in time (headers within ${headersTimeout} ms, ` +
      `the whole request within ${requestTimeout} ms); send it again, all at once`))
    lingeringClose(socket, REFUSED_LINGER_MS)
    return
  }
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400
  const message = status === 431 ? 'Exceeded maximum allowed HTTP header size' : 'Client Error'
  const body = JSON.stringify({ error: STATUS_CODES[status], message, statusCode: status })
  socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Length: ${body.length}\r\nContent-Type: application/json\r\n\r\n${body}`)
  socket.destroy(error)
}
