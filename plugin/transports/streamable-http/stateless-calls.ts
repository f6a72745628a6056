import type { JsonRpcId } from '../../protocol/jsonrpc.js'
import type { RequestRegistry, RunningRequest } from '../../protocol/client-session.js'

/**
 * Stateless calls running in this process, by caller, so that a `notifications/cancelled` POSTed beside a call
 * can stop it (a stateless request has no session to look in). Only identified callers: with auth off every
 * caller is the same nobody, and request ids are small integers anyone could send. A cancellation must name
 * exactly one running call of its caller; clients that share a token and an id cancel nothing but by hanging up.
 */
export class StatelessCalls {
  private readonly calls = new Map<string, RunningRequest[]>()

  get size (): number {
    return this.calls.size
  }

  /** The registry of one caller's calls, as the handler runner and the dispatcher use it. */
  of (identityId: string): RequestRegistry {
    const keyOf = (id: JsonRpcId): string => `${identityId}\u0000${typeof id}:${String(id)}`
    return {
      get: (id) => {
        const running = this.calls.get(keyOf(id))
        return running?.length === 1 ? running[0] : undefined
      },
      set: (id, request) => {
        const key = keyOf(id)
        const running = this.calls.get(key)
        if (running === undefined) this.calls.set(key, [request])
        else running.push(request)
      },
      delete: (id, request) => {
        const key = keyOf(id)
        const running = this.calls.get(key)?.filter((entry) => entry !== request)
        if (running === undefined || running.length === 0) this.calls.delete(key)
        else this.calls.set(key, running)
      }
    }
  }
}
