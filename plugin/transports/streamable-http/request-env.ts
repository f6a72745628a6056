import type { FastifyReply, FastifyRequest } from 'fastify'
import type { JsonRpcNotification, JsonRpcRequest } from '../../protocol/jsonrpc.js'
import type { CallEnv, HttpOrigin } from '../../protocol/call-env.js'
import type { AuthIdentity } from '../../protocol/identity.js'
import type { Logger } from '../../protocol/logger.js'
import type { ModernRequest } from '../../protocol/modern/envelope.js'
import type { RequestLoggers } from '../http/request-loggers.js'
import type { RequestRegistry } from '../../protocol/client-session.js'
import type { StatelessCalls } from './stateless-calls.js'

/** An AbortSignal that fires if the client goes away before its answer was written. */
function clientGoneSignal (reply: FastifyReply): AbortSignal {
  const controller = new AbortController()
  const raw = reply.raw
  if (raw.destroyed) controller.abort(new Error('The client closed the connection'))
  else raw.once('close', () => { if (!raw.writableFinished) controller.abort(new Error('The client closed the connection')) })
  return controller.signal
}

/**
 * The CallEnv of one stateless POST, either era. A class, not an object literal: a literal with a getter is rebuilt
 * the slow way on every request (measured at ~13 µs of a ~30 µs request), and the getters are what keep the signal
 * and the call's logger lazy. One shape for both eras: `modern` is the checked 2026 envelope, or undefined.
 */
export class HttpRequestEnv implements CallEnv {
  readonly transport = 'streamable-http' as const
  readonly session = undefined
  readonly auth: AuthIdentity | undefined
  readonly http: HttpOrigin
  private clientSignal: AbortSignal | undefined
  private callLog: Logger | undefined

  constructor (
    private readonly request: FastifyRequest,
    private readonly reply: FastifyReply,
    readonly notify: (message: JsonRpcNotification | JsonRpcRequest) => void,
    readonly modern: ModernRequest | undefined,
    private readonly loggers: RequestLoggers,
    private readonly calls: StatelessCalls
  ) {
    this.auth = request.mcpAuth ?? undefined
    this.http = request
  }

  /** Made on first use (a handler that logs, a tool failure): most calls write no line of their own. */
  get log (): Logger {
    return (this.callLog ??= this.loggers.forCall(this.request))
  }

  /** Made on first use: most calls never look at it. */
  get signal (): AbortSignal {
    return (this.clientSignal ??= clientGoneSignal(this.reply))
  }

  /** Asked only when a call outlives its first turn, or a cancellation arrives; none for unidentified callers. */
  get inFlight (): RequestRegistry | undefined {
    return this.auth === undefined ? undefined : this.calls.of(this.auth.id)
  }
}
