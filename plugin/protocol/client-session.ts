import type { JsonRpcId, JsonRpcMessage } from './jsonrpc.js'
import type { ClientCapabilities, Implementation, LoggingLevel } from './spec.js'
import type { AuthIdentity } from './identity.js'

/**
 * What the server remembers about one connected client between messages: a stdio connection, a legacy SSE
 * stream, or a stateful Streamable HTTP session. Stateless requests have none.
 */
export interface ClientSession {
  /** Session id on the wire (SSE, stateful HTTP); undefined on stdio. */
  readonly id: string | undefined
  /** The identity that opened the session; other identities cannot use it. */
  readonly owner: AuthIdentity | undefined
  protocolVersion: string | undefined
  clientInfo: Implementation | undefined
  clientCapabilities: ClientCapabilities | undefined
  /** Lowest level of `notifications/message` the client asked for with `logging/setLevel`. */
  logLevel: LoggingLevel | undefined
  /** Resource URIs the client subscribed to. */
  readonly subscriptions: Set<string>
  /** Requests being handled, so that `notifications/cancelled` (or the session ending) can stop them. */
  readonly inFlight: Map<JsonRpcId, { abort: (reason?: unknown) => void }>
  /** Delivers a message outside any request's response (stdio, the SSE stream, the GET stream). */
  send: ((message: JsonRpcMessage) => void) | undefined
}

export function createClientSession (
  id: string | undefined,
  owner: AuthIdentity | undefined,
  send: ((message: JsonRpcMessage) => void) | undefined
): ClientSession {
  return {
    id,
    owner,
    protocolVersion: undefined,
    clientInfo: undefined,
    clientCapabilities: undefined,
    logLevel: undefined,
    subscriptions: new Set(),
    inFlight: new Map(),
    send
  }
}
