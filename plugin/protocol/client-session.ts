import type { JsonRpcId, JsonRpcMessage } from './jsonrpc.js'
import type { ClientCapabilities, Implementation, LoggingLevel } from './spec.js'
import type { AuthIdentity } from './identity.js'
import { ErrorCode, JsonRpcError } from './jsonrpc.js'

/** The refusal of one `resources/subscribe` too many: the caller must unsubscribe from something first. */
export function tooManySubscriptions (limit: number): JsonRpcError {
  return new JsonRpcError(ErrorCode.ServerError,
    `Too many subscriptions: this session already holds ${limit}, the limit per session; unsubscribe from a resource first`,
    { reason: TOO_MANY_SUBSCRIPTIONS, limit })
}

/** The `data.reason` of that refusal, so that an HTTP transport can answer it with 429. */
export const TOO_MANY_SUBSCRIPTIONS = 'too-many-subscriptions'

/** What `initialize` tells the server about the client. */
export interface ClientHello {
  protocolVersion: string
  clientInfo: Implementation | undefined
  clientCapabilities: ClientCapabilities | undefined
}

/** A request being handled, so that `notifications/cancelled` (or the session ending) can stop it. */
export interface RunningRequest {
  abort: (reason?: unknown) => void
}

/** Where running requests are found by id: a session's Map, or the stateless calls of one caller. */
export interface RequestRegistry {
  get: (id: JsonRpcId) => RunningRequest | undefined
  set: (id: JsonRpcId, request: RunningRequest) => void
  /** Forgets `request`, if it is still the one registered under `id`. */
  delete: (id: JsonRpcId, request: RunningRequest) => void
}

/** A session's running requests: one per id (a client does not reuse an id while its request runs). */
export class RunningRequests extends Map<JsonRpcId, RunningRequest> implements RequestRegistry {
  override delete (id: JsonRpcId, request?: RunningRequest): boolean {
    return (request === undefined || this.get(id) === request) && super.delete(id)
  }
}

/**
 * What the dispatcher knows about one client between messages: a stdio connection, a legacy SSE stream, or a
 * stateful Streamable HTTP session. Stateless requests have none. The setters may persist (a session shared by
 * several replicas keeps its state in the cluster's store), so the dispatcher waits for them.
 */
export interface ClientSession {
  /** Session id on the wire (SSE, stateful HTTP); undefined on stdio. */
  readonly id: string | undefined
  /** The identity that opened the session; other identities cannot use it. */
  readonly owner: AuthIdentity | undefined
  readonly protocolVersion: string | undefined
  readonly clientInfo: Implementation | undefined
  readonly clientCapabilities: ClientCapabilities | undefined
  /** Lowest level of `notifications/message` the client asked for with `logging/setLevel`. */
  readonly logLevel: LoggingLevel | undefined
  /** Requests of this session running in this process. */
  readonly inFlight: RunningRequests
  /** Delivers a message outside any request's response (stdout, the SSE stream, the GET stream). */
  readonly send: ((message: JsonRpcMessage) => void) | undefined
  initialized: (hello: ClientHello) => void | Promise<void>
  setLogLevel: (level: LoggingLevel) => void | Promise<void>
  subscribe: (uri: string) => void | Promise<void>
  unsubscribe: (uri: string) => void | Promise<void>
}

/** A session that lives in this process alone: stdio, and a legacy SSE stream (whose messages reach its holder). */
export class LocalClientSession implements ClientSession {
  protocolVersion: string | undefined
  clientInfo: Implementation | undefined
  clientCapabilities: ClientCapabilities | undefined
  logLevel: LoggingLevel | undefined
  readonly inFlight = new RunningRequests()
  /** Resource URIs the client subscribed to. */
  readonly subscriptions = new Set<string>()

  constructor (
    readonly id: string | undefined,
    readonly owner: AuthIdentity | undefined,
    readonly send: ((message: JsonRpcMessage) => void) | undefined,
    private readonly maxSubscriptions = Number.POSITIVE_INFINITY
  ) {}

  initialized (hello: ClientHello): void {
    this.protocolVersion = hello.protocolVersion
    this.clientInfo = hello.clientInfo
    this.clientCapabilities = hello.clientCapabilities
  }

  setLogLevel (level: LoggingLevel): void { this.logLevel = level }
  subscribe (uri: string): void {
    if (!this.subscriptions.has(uri) && this.subscriptions.size >= this.maxSubscriptions) throw tooManySubscriptions(this.maxSubscriptions)
    this.subscriptions.add(uri)
  }

  unsubscribe (uri: string): void { this.subscriptions.delete(uri) }

  /** Stops every request of this session still running here. */
  abortAll (reason: unknown): void {
    for (const request of this.inFlight.values()) request.abort(reason)
  }
}
