import type { JsonRpcNotification, JsonRpcRequest } from './jsonrpc.js'
import type { ModernRequest } from './modern/envelope.js'
import type { AuthIdentity, TransportName } from './identity.js'
import type { ClientSession, RequestRegistry } from './client-session.js'
import type { Logger } from './logger.js'

/**
 * The HTTP request that carried a message, for the route bridge (allow-listed headers, the client's address). Not
 * part of the handler context: handlers never see request headers, and so never a token.
 */
export interface HttpOrigin {
  /** The HTTP request's id (Fastify's), which its log lines carry. */
  readonly id?: string
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
  /** The client's address, as Fastify's `request.ip` gives it (its `trustProxy` setting included); undefined once the connection is gone. */
  readonly ip: string | undefined
}

/** What a transport tells the dispatcher about one incoming message. */
export interface CallEnv {
  transport: TransportName
  auth: AuthIdentity | undefined
  /** The client's session; undefined for stateless requests. */
  session: ClientSession | undefined
  /** Stateless requests of an identified caller: where its running calls are found for `notifications/cancelled`. */
  readonly inFlight?: RequestRegistry
  log: Logger
  /** Fires when the client is gone: its HTTP response closed, its SSE stream ended, stdin closed. */
  signal?: AbortSignal
  /**
   * Delivers a message that belongs to this request (progress, log messages, requests to the client); absent
   * when nothing can carry one.
   */
  notify?: (message: JsonRpcNotification | JsonRpcRequest) => void
  /**
   * 2026 era only: the request's checked `_meta` envelope (client capabilities, info and log level, which sessions
   * keep in the 2025 era) and its round of input requests. Set on an env that belongs to this one request.
   */
  modern?: ModernRequest
  /** The HTTP request behind the message; absent on stdio. */
  http?: HttpOrigin
}
