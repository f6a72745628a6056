import type { FastifyReply, FastifyRequest } from 'fastify'
import type { JsonRpcNotification, JsonRpcRequest } from '../../protocol/jsonrpc.js'
import type { CallEnv, HttpOrigin } from '../../protocol/call-env.js'
import type { AuthIdentity } from '../../protocol/identity.js'
import type { Logger } from '../../protocol/logger.js'
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
 * The CallEnv of one stateless POST. A class, not an object literal: a literal with a getter is rebuilt the slow
 * way on every request (measured at ~13 µs of a ~30 µs request), and the getter is what keeps the signal lazy.
 */
export class HttpRequestEnv implements CallEnv {
  readonly transport = 'streamable-http' as const
  readonly session = undefined
  readonly auth: AuthIdentity | undefined
  readonly log: Logger
  readonly http: HttpOrigin
  private clientSignal: AbortSignal | undefined

  constructor (
    request: FastifyRequest,
    private readonly reply: FastifyReply,
    readonly notify: (message: JsonRpcNotification | JsonRpcRequest) => void,
    private readonly calls: StatelessCalls
  ) {
    this.auth = request.mcpAuth ?? undefined
    this.log = request.log
    this.http = request
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
