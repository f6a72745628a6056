import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify'
import type { Logger } from '../../protocol/logger.js'

type ChildLoggerFactory = Parameters<FastifyInstance['setChildLoggerFactory']>[0]

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const

/**
 * The loggers of the MCP routes. With the per-call log line on (`logCalls`) and the app logging at `info` or below,
 * Fastify's two request lines there ("incoming request", "request completed") give way to one line per MCP message:
 * `request.log` on those routes is then a child of one quiet parent, made once, that writes `warn` and above (the
 * child costs what Fastify's own per-request child costs, and inherits the level without rebuilding its methods).
 * The lines a call writes itself (a handler's `ctx.log`, tool failures) go to `forCall`, made on first use only,
 * with the request id and the caller's identity; `base` writes the per-call and stream lines, with the request
 * id in each.
 */
export interface RequestLoggers {
  /** The app's logger: info lines of the MCP routes are written here, each naming its request id. */
  readonly base: FastifyBaseLogger
  /** Name of the request-id field (Fastify's `requestIdLogLabel`). */
  readonly idLabel: string
  /** True when Fastify's request lines on the MCP routes are silenced in favour of ours. */
  readonly quiet: boolean
  /** The logger of a call's own lines: the request's id and its caller, made on first use. */
  forCall: (request: FastifyRequest) => Logger
  /** For `setChildLoggerFactory` on the MCP routes, when quiet. */
  childLoggerFactory: ChildLoggerFactory | undefined
}

function isPinoLike (log: FastifyBaseLogger): log is FastifyBaseLogger & { isLevelEnabled: (level: string) => boolean } {
  return typeof (log as { isLevelEnabled?: unknown }).isLevelEnabled === 'function'
}

export function createRequestLoggers (app: FastifyInstance, logCalls: boolean): RequestLoggers {
  const base = app.log
  const idLabel = (app.initialConfig as { requestIdLogLabel?: string }).requestIdLogLabel ?? 'reqId'
  const quiet = logCalls && isPinoLike(base) && base.isLevelEnabled('info')
  if (!quiet) {
    return {
      base,
      idLabel,
      quiet,
      forCall: (request) => request.mcpAuth == null ? request.log : request.log.child({ identity: request.mcpAuth.id }),
      childLoggerFactory: undefined
    }
  }
  let quietParent: FastifyBaseLogger | undefined
  let quietOf: FastifyBaseLogger | undefined
  const childLoggerFactory: ChildLoggerFactory = function quietRequestLogger (logger, bindings, options) {
    // A route-level logLevel (`register(plugin, { logLevel })`) above warn is kept; below it, warn.
    const asked = options.level
    if (asked !== undefined && LEVELS.indexOf(asked as typeof LEVELS[number]) >= LEVELS.indexOf('warn')) return logger.child(bindings, options)
    if (quietOf !== logger) {
      quietOf = logger
      quietParent = logger.child({}, { level: 'warn' })
    }
    return (quietParent as FastifyBaseLogger).child(bindings)
  }
  return {
    base,
    idLabel,
    quiet,
    forCall: (request) => base.child(request.mcpAuth == null ? { [idLabel]: request.id } : { [idLabel]: request.id, identity: request.mcpAuth.id }),
    childLoggerFactory
  }
}
