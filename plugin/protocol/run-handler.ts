import { JsonRpcError, type JsonRpcId, type JsonRpcRequest } from './jsonrpc.js'
import { InputRequired } from './modern/input-round.js'
import type { CallEnv } from './call-env.js'
import { scheduleDeadline, type Deadline } from './deadlines.js'
import { createHandlerContext, type HandlerContext, type ServerServices, type SignalSource } from './handler-context.js'

export type HandlerOutcome<T> =
  | { status: 'done', value: T }
  | { status: 'failed', error: unknown }
  | { status: 'timeout', timeoutMs: number }
  | { status: 'cancelled' }

/** Raised on `ctx.signal` when the client cancels with `notifications/cancelled`. */
export class RequestCancelledError extends Error {
  constructor (reason: unknown) {
    super(typeof reason === 'string' && reason !== '' ? `Cancelled by the client: ${reason}` : 'Cancelled by the client')
    this.name = 'AbortError'
  }
}

class HandlerTimeoutError extends Error {
  constructor (timeoutMs: number) {
    super(`Timed out after ${timeoutMs} ms`)
    this.name = 'TimeoutError'
  }
}

/**
 * The stop switch of one call: cancellation, timeout, or the client going away end it. The AbortSignal a handler
 * sees is made only if the handler asks for it (most never do), and only then linked to the transport's signal.
 */
class CallControl implements SignalSource {
  private controller: AbortController | undefined
  private reason: unknown
  stopped = false

  // The env, not its signal: reading `env.signal` is what makes the transport's signal, so it waits until needed.
  constructor (private readonly env: CallEnv, private readonly onStop: (reason: unknown) => void) {}

  get signal (): AbortSignal {
    if (this.controller !== undefined) return this.controller.signal
    const controller = this.controller = new AbortController()
    if (this.stopped) controller.abort(this.reason)
    else {
      const client = this.env.signal
      if (client?.aborted === true) this.abort(client.reason)
      else client?.addEventListener('abort', () => { this.abort(client.reason) }, { once: true })
    }
    return controller.signal
  }

  abort (reason?: unknown): void {
    if (this.stopped) return
    this.stopped = true
    this.reason = reason
    this.controller?.abort(reason)
    this.onStop(reason)
  }
}

function isThenable (value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function'
}

function stopOutcome<T> (reason: unknown, timeoutMs: number | undefined): HandlerOutcome<T> {
  return reason instanceof HandlerTimeoutError ? { status: 'timeout', timeoutMs: timeoutMs ?? 0 } : { status: 'cancelled' }
}

/**
 * Runs a user handler with a context whose signal fires on cancellation, on the client going away and on the
 * timeout, and settles as soon as any of them happens even if the handler never returns. A handler that answers
 * synchronously gets its outcome back synchronously: no promise, timer or bookkeeping (most tools are quick).
 */
export function runHandler<T> (
  env: CallEnv,
  request: JsonRpcRequest,
  timeoutMs: number | undefined,
  services: ServerServices,
  handler: (ctx: HandlerContext) => T | Promise<T>
): HandlerOutcome<T> | Promise<HandlerOutcome<T>> {
  let stopped: HandlerOutcome<T> | undefined
  let settle: ((outcome: HandlerOutcome<T>) => void) | undefined
  const control = new CallControl(env, (reason) => {
    const outcome = stopOutcome<T>(reason, timeoutMs)
    if (settle === undefined) stopped = outcome
    else settle(outcome)
  })
  let result: T | Promise<T>
  try {
    result = handler(createHandlerContext(env, request, control, services))
  } catch (error) {
    return stopped ?? { status: 'failed', error }
  }
  if (!isThenable(result)) return stopped ?? { status: 'done', value: result }
  if (stopped !== undefined) return stopped
  const pending = result
  return new Promise<HandlerOutcome<T>>((resolve) => {
    const inFlight = env.session?.inFlight ?? env.inFlight
    const id: JsonRpcId = request.id
    let deadline: Deadline | undefined
    settle = (outcome) => {
      if (settle === undefined) return
      settle = undefined
      deadline?.cancel()
      inFlight?.delete(id, control)
      resolve(outcome)
    }
    inFlight?.set(id, control)
    if (timeoutMs !== undefined && timeoutMs > 0) {
      deadline = scheduleDeadline(timeoutMs, () => { control.abort(new HandlerTimeoutError(timeoutMs)) })
    }
    pending.then((value) => { settle?.({ status: 'done', value }) }, (error: unknown) => { settle?.({ status: 'failed', error }) })
  })
}

export function errorMessage (error: unknown): string {
  try {
    if (error instanceof Error) return error.message === '' ? error.name : String(error.message)
    return String(error)
  } catch {
    return 'the handler threw a value that cannot be shown as text'
  }
}

/**
 * A handler that throws a JsonRpcError means a protocol error (e.g. a missing client capability), and one that
 * needs client input ends its round: both leave the handler as they are, not as a failed call.
 */
export function rethrowProtocolSignals (error: unknown): void {
  if (error instanceof JsonRpcError || error instanceof InputRequired) throw error
}
