import { JsonRpcError, type JsonRpcRequest } from './jsonrpc.js'
import { InputRequired } from './modern/input-round.js'
import type { CallEnv } from './call-env.js'
import { createHandlerContext, type HandlerContext, type ServerServices } from './handler-context.js'

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
 * Runs a user handler with a context whose signal fires on cancellation, on the client going away and on the
 * timeout, and settles as soon as any of them happens even if the handler never returns.
 */
export async function runHandler<T> (
  env: CallEnv,
  request: JsonRpcRequest,
  timeoutMs: number | undefined,
  services: ServerServices,
  handler: (ctx: HandlerContext) => T | Promise<T>
): Promise<HandlerOutcome<T>> {
  const controller = new AbortController()
  const signal = controller.signal
  const clientSignal = env.signal
  const inFlight = env.session?.inFlight
  const onClientGone = (): void => { controller.abort(clientSignal?.reason) }
  let timer: NodeJS.Timeout | undefined

  if (clientSignal !== undefined) {
    if (clientSignal.aborted) return { status: 'cancelled' }
    clientSignal.addEventListener('abort', onClientGone, { once: true })
  }
  inFlight?.set(request.id, controller)

  const stopped = new Promise<HandlerOutcome<T>>((resolve) => {
    signal.addEventListener('abort', () => {
      resolve(signal.reason instanceof HandlerTimeoutError
        ? { status: 'timeout', timeoutMs: timeoutMs ?? 0 }
        : { status: 'cancelled' })
    }, { once: true })
  })
  if (timeoutMs !== undefined && timeoutMs > 0) {
    timer = setTimeout(() => { controller.abort(new HandlerTimeoutError(timeoutMs)) }, timeoutMs)
  }

  try {
    const ctx = createHandlerContext(env, request, signal, services)
    const work = (async (): Promise<HandlerOutcome<T>> => {
      try {
        return { status: 'done', value: await handler(ctx) }
      } catch (error) {
        return { status: 'failed', error }
      }
    })()
    return await Promise.race([work, stopped])
  } finally {
    if (timer !== undefined) clearTimeout(timer)
    clientSignal?.removeEventListener('abort', onClientGone)
    if (inFlight?.get(request.id) === controller) inFlight.delete(request.id)
  }
}

export function errorMessage (error: unknown): string {
  if (error instanceof Error) return error.message === '' ? error.name : error.message
  return String(error)
}

/**
 * A handler that throws a JsonRpcError means a protocol error (e.g. a missing client capability), and one that
 * needs client input ends its round: both leave the handler as they are, not as a failed call.
 */
export function rethrowProtocolSignals (error: unknown): void {
  if (error instanceof JsonRpcError || error instanceof InputRequired) throw error
}
