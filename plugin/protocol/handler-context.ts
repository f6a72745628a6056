import type { JsonRpcId, JsonRpcRequest } from './jsonrpc.js'
import type { AuthIdentity, TransportName } from './identity.js'
import type { LoggingLevel } from './spec.js'
import type { Logger } from './logger.js'
import type { CallEnv } from './call-env.js'

/** What every tool, resource and prompt handler receives beside its arguments. */
export interface HandlerContext {
  /** Fires when the client cancels the request or goes away, or the handler's timeout passes. */
  readonly signal: AbortSignal
  /** Which transport carried the request. */
  readonly transport: TransportName
  /** The caller as auth established it; undefined when auth is off (and on stdio). */
  readonly auth: AuthIdentity | undefined
  /** Server-side logger (pino), bound to the request. Never sent to the client. */
  readonly log: Logger
  /** The protocol session, when the transport has one (SSE, stateful Streamable HTTP). */
  readonly sessionId: string | undefined
  readonly requestId: JsonRpcId
  /**
   * Reports progress to the client. A no-op unless the request carried a progress token and the transport can
   * deliver notifications while the request runs.
   */
  progress: (progress: number, total?: number, message?: string) => void
  /** Sends a log message to the client (`notifications/message`), honouring its `logging/setLevel`. */
  sendLog: (level: LoggingLevel, data: unknown, logger?: string) => void
}

const LEVEL_ORDER: Record<LoggingLevel, number> = {
  debug: 0, info: 1, notice: 2, warning: 3, error: 4, critical: 5, alert: 6, emergency: 7
}

export function isLoggingLevel (value: unknown): value is LoggingLevel {
  return typeof value === 'string' && value in LEVEL_ORDER
}

function progressTokenOf (request: JsonRpcRequest): string | number | undefined {
  const meta = request.params?._meta
  if (typeof meta !== 'object' || meta === null) return undefined
  const token = (meta as Record<string, unknown>).progressToken
  return typeof token === 'string' || typeof token === 'number' ? token : undefined
}

export function createHandlerContext (env: CallEnv, request: JsonRpcRequest, signal: AbortSignal): HandlerContext {
  const progressToken = progressTokenOf(request)
  const notify = env.notify
  return {
    signal,
    transport: env.transport,
    auth: env.auth,
    log: env.log,
    sessionId: env.session?.id,
    requestId: request.id,
    progress (progress, total, message) {
      if (progressToken === undefined || notify === undefined || signal.aborted) return
      const params: Record<string, unknown> = { progressToken, progress }
      if (total !== undefined) params.total = total
      if (message !== undefined) params.message = message
      notify({ jsonrpc: '2.0', method: 'notifications/progress', params })
    },
    sendLog (level, data, logger) {
      if (notify === undefined || signal.aborted) return
      const threshold = env.session?.logLevel
      if (threshold !== undefined && LEVEL_ORDER[level] < LEVEL_ORDER[threshold]) return
      const params: Record<string, unknown> = { level, data }
      if (logger !== undefined) params.logger = logger
      notify({ jsonrpc: '2.0', method: 'notifications/message', params })
    }
  }
}
