import type { JsonRpcNotification } from './jsonrpc.js'
import type { AuthIdentity, TransportName } from './identity.js'
import type { ClientSession } from './client-session.js'
import type { Logger } from './logger.js'

/** What a transport tells the dispatcher about one incoming message. */
export interface CallEnv {
  transport: TransportName
  auth: AuthIdentity | undefined
  /** The client's session; undefined for stateless requests. */
  session: ClientSession | undefined
  log: Logger
  /** Fires when the client is gone: its HTTP response closed, its SSE stream ended, stdin closed. */
  signal?: AbortSignal
  /** Delivers a notification that belongs to this request (progress, log messages); absent when nothing can. */
  notify?: (notification: JsonRpcNotification) => void
}
