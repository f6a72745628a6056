import { randomBytes } from 'node:crypto'
import type { JsonRpcRequest, JsonRpcResponse } from '../protocol/jsonrpc.js'
import type { CallEnv } from '../protocol/call-env.js'
import type { InputRequests, InputResponses } from '../protocol/input-requests.js'


interface Pending {
  owner: string | null
  resolve: (result: Record<string, unknown>) => void
  reject: (error: Error) => void
}

/**
 * Server-to-client requests of the 2025 era (sampling, elicitation, roots). Each goes out on whatever carries
 * messages for the calling request (its POST stream, the SSE stream, stdout) under a server-wide unique id, and
 * the client's answer, however it arrives, is matched back by that id and the caller's identity. Because the
 * match needs no session, this works for stateless Streamable HTTP too (on one instance).
 */
export class ClientRequests {
  private readonly pending = new Map<string, Pending>()
  private readonly prefix = randomBytes(6).toString('base64url')
  private counter = 0

  async ask (env: CallEnv, signal: AbortSignal, requests: InputRequests): Promise<InputResponses> {
    const entries = await Promise.all(Object.entries(requests).map(async ([key, request]) =>
      [key, await this.send(env, signal, request.method, request.params)] as const))
    return Object.fromEntries(entries)
  }

  /** Routes a client's response to the request waiting for it; false when nothing waits (or not for this caller). */
  settle (response: JsonRpcResponse, env: CallEnv): boolean {
    const id = String(response.id)
    const pending = this.pending.get(id)
    if (pending === undefined || pending.owner !== (env.auth?.id ?? null)) return false
    this.pending.delete(id)
    if ('result' in response) pending.resolve(response.result)
    else pending.reject(new Error(`The client answered the ${id} request with an error: ${response.error.message}`))
    return true
  }

  get size (): number {
    return this.pending.size
  }

  private async send (env: CallEnv, signal: AbortSignal, method: string, params: Record<string, unknown>): Promise<Record<string, unknown>> {
    const notify = env.notify
    if (notify === undefined) throw new Error(`This transport cannot carry a ${method} request to the client`)
    if (signal.aborted) throw signal.reason
    const id = `${this.prefix}-${++this.counter}`
    return await new Promise((resolve, reject) => {
      const onAbort = (): void => {
        this.pending.delete(id)
        reject(signal.reason)
      }
      signal.addEventListener('abort', onAbort, { once: true })
      this.pending.set(id, {
        owner: env.auth?.id ?? null,
        resolve: (result) => { signal.removeEventListener('abort', onAbort); resolve(result) },
        reject: (error) => { signal.removeEventListener('abort', onAbort); reject(error) }
      })
      const request: JsonRpcRequest = { jsonrpc: '2.0', id, method, params }
      notify(request)
    })
  }
}
