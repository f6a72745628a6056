import { ErrorCode, quoteValue, type JsonRpcId } from '../../protocol/jsonrpc.js'
import type { RefusalReason } from '../../telemetry/telemetry.js'

/**
 * A request an MCP route refuses. Thrown from a route or hook; the routes' error handler sends it as a JSON-RPC
 * error body with this HTTP status and these headers. A plain class: refusals are built on every refused request
 * and cost nothing at start-up (an HTTP-errors package costs 13-44 ms to load).
 */
export class HttpRefusal extends Error {
  constructor (
    readonly statusCode: number,
    message: string,
    readonly rpcCode: number = ErrorCode.ServerError,
    readonly rpcId: JsonRpcId | null = null,
    readonly headers: Readonly<Record<string, string>> | undefined = undefined,
    /** For the refusal counter, where the status alone does not say it (a 503 for draining, say). */
    readonly reason: RefusalReason | undefined = undefined
  ) {
    super(message)
    this.name = 'HttpRefusal'
  }
}

/** Seconds a client should wait before it retries, by why it was refused. */
const RETRY_AFTER = {
  /** Draining for shutdown: another instance can take the request at once. */
  draining: { 'retry-after': '5' },
  /** Every session slot is taken: sessions end by idleness or DELETE, which takes a while. */
  full: { 'retry-after': '30' },
  /** A cluster service (Redis) is unreachable: the client library reconnects within seconds. */
  unavailable: { 'retry-after': '5' },
  /** This session has its maximum of requests running: answers come quickly. */
  busy: { 'retry-after': '1' }
} as const

/**
 * Every refusal the MCP routes send, in one place: status, JSON-RPC code, a message that says what to do, and the
 * Retry-After where waiting helps. Values the client sent are quoted and cut (see `quoteValue`).
 */
export const refusals = {
  // Headers and body
  notAcceptablePost: () =>
    new HttpRefusal(406, 'Not Acceptable: the Accept header must list both application/json and text/event-stream'),
  notAcceptableStream: () =>
    new HttpRefusal(406, 'Not Acceptable: GET /mcp opens an event stream; the Accept header must list text/event-stream'),
  unsupportedMediaType: () =>
    new HttpRefusal(415, 'Unsupported Media Type: send the JSON-RPC message with "Content-Type: application/json"'),
  unsupportedVersion: (version: unknown, supported: readonly string[]) =>
    new HttpRefusal(400, `Bad Request: unsupported MCP-Protocol-Version ${quoteValue(version)}; this server supports ${supported.join(', ')}`),
  invalidMessage: (reason: string, rpcId: JsonRpcId | null) =>
    new HttpRefusal(400, `Invalid Request: ${reason}`, ErrorCode.InvalidRequest, rpcId),
  bodyNotJson: () =>
    new HttpRefusal(400, 'Parse error: the request body is not valid JSON', ErrorCode.ParseError),
  bodyEmpty: () =>
    new HttpRefusal(400, 'Parse error: the request body is empty; send one JSON-RPC message', ErrorCode.ParseError),
  bodyTooLarge: () =>
    new HttpRefusal(413, 'Payload Too Large: the request body exceeds this server\'s body limit'),
  badContentLength: () =>
    new HttpRefusal(400, 'Parse error: the Content-Length header does not match the body', ErrorCode.ParseError),
  methodNotAllowed: () =>
    new HttpRefusal(405, 'Method Not Allowed: this server is stateless; send JSON-RPC messages with POST', ErrorCode.ServerError, null, { allow: 'POST' }),

  // Capacity and shutdown
  draining: (rpcId: JsonRpcId | null = null) =>
    new HttpRefusal(503, 'Service Unavailable: this server is shutting down; retry shortly (another instance may serve you)', ErrorCode.ServerError, rpcId, RETRY_AFTER.draining, 'draining'),
  clusterUnavailable: (rpcId: JsonRpcId | null = null) =>
    new HttpRefusal(503, 'Service Unavailable: this request needs the shared session store (Redis), which is unreachable right now; retry in a few seconds',
      ErrorCode.ServerError, rpcId, RETRY_AFTER.unavailable, 'unavailable'),
  rateLimited: (limit: number, windowMs: number, retryAfter: number) =>
    new HttpRefusal(429, `Too Many Requests: this caller sent more than ${limit} requests in ${windowMs / 1000} s, its rate limit; ` +
      `retry in ${retryAfter} s`, ErrorCode.ServerError, null, { 'retry-after': String(retryAfter) }, 'too_many_requests'),
  toolRateLimited: (tool: string, limit: number, windowMs: number, retryAfter: number, rpcId: JsonRpcId | null) =>
    new HttpRefusal(429, `Too Many Requests: this caller called the tool ${quoteValue(tool)} more than ${limit} times in ${windowMs / 1000} s, ` +
      `its rate limit; retry in ${retryAfter} s`, ErrorCode.ServerError, rpcId, { 'retry-after': String(retryAfter) }, 'too_many_requests'),
  identityCap: (limit: number, rpcId: JsonRpcId | null = null) =>
    new HttpRefusal(429, `Too Many Requests: this caller already holds ${limit} open sessions and streams, the limit per caller; ` +
      'end one (DELETE /mcp with its Mcp-Session-Id, or close an SSE or listen stream) and retry', ErrorCode.ServerError, rpcId, RETRY_AFTER.full),

  // Stateful Streamable HTTP sessions
  missingSessionId: (rpcId: JsonRpcId | null) =>
    new HttpRefusal(400, 'Bad Request: missing Mcp-Session-Id header; send the id the initialize response carried, or send initialize to start a session', ErrorCode.ServerError, rpcId),
  sessionNotFound: (rpcId: JsonRpcId | null) =>
    new HttpRefusal(404, 'Session not found: it expired, was ended, or belongs to another caller; send initialize without Mcp-Session-Id to start a new one', ErrorCode.ServerError, rpcId),
  initializeWithSession: (rpcId: JsonRpcId) =>
    new HttpRefusal(400, 'Bad Request: initialize starts a new session; send it without Mcp-Session-Id', ErrorCode.InvalidRequest, rpcId),
  sessionsFull: (maxSessions: number, rpcId: JsonRpcId) =>
    new HttpRefusal(503, `Service Unavailable: all ${maxSessions} sessions are in use; retry later, or end unused sessions with DELETE`, ErrorCode.ServerError, rpcId, RETRY_AFTER.full),
  unknownLastEventId: (lastEventId: string) =>
    new HttpRefusal(400, `Bad Request: Last-Event-ID ${quoteValue(lastEventId)} names no stream of this session`),
  statefulBusy: (limit: number, rpcId: JsonRpcId) =>
    new HttpRefusal(429, `Too Many Requests: this session already has ${limit} requests running here, the limit per session; ` +
      'wait for their answers before sending more', ErrorCode.ServerError, rpcId, RETRY_AFTER.busy),
  listenFull: (maxStreams: number, rpcId: JsonRpcId) =>
    new HttpRefusal(503, `Service Unavailable: all ${maxStreams} subscriptions/listen streams of this server are open; retry later`,
      ErrorCode.ServerError, rpcId, RETRY_AFTER.full),
  streamAlreadyOpen: () =>
    new HttpRefusal(409, 'Conflict: this session already has its GET stream open (one per session); resume it with Last-Event-ID to take it over'),

  // Legacy HTTP+SSE sessions
  sseFull: (maxSessions: number) =>
    new HttpRefusal(503, `Service Unavailable: all ${maxSessions} SSE sessions are in use; retry later or close an idle client`, ErrorCode.ServerError, null, RETRY_AFTER.full),
  sseBusy: (limit: number, rpcId: JsonRpcId) =>
    new HttpRefusal(429, `Too Many Requests: this session already has ${limit} requests running, the limit per SSE session; ` +
      'wait for their answers before sending more', ErrorCode.ServerError, rpcId, RETRY_AFTER.busy),
  missingSseSessionId: () =>
    new HttpRefusal(400, 'Bad Request: missing "sessionId" query parameter; POST to the URL the /sse stream sent in its "endpoint" event'),
  sseRelayUnconfirmed: (rpcId: JsonRpcId | null) =>
    new HttpRefusal(504, 'Gateway Timeout: the server replica holding this session\'s stream did not confirm the message in time; ' +
      'it may still have been delivered, so wait for its answer on the stream before sending it again', ErrorCode.ServerError, rpcId),
  sseSessionNotFound: () =>
    new HttpRefusal(404, 'Session not found: it expired, was closed, or belongs to another caller; open a new stream with GET /sse')
} as const
