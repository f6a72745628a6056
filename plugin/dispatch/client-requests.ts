import { randomBytes } from 'node:crypto'
import type { JsonRpcRequest, JsonRpcResponse } from '../protocol/jsonrpc.js'
import type { CallEnv } from '../protocol/call-env.js'
import type { InputRequests, InputResponses } from '../protocol/input-requests.js'

/** Who answered (or may answer) a server-to-client request: the identity, and the session if there is one. */
export interface Answerer {
  ownerId: string | null
  sessionId: string | undefined
}

/** Hands a client's answer to the process that asked, when another process did (cluster mode). */
export type ForwardAnswer = (origin: string, response: JsonRpcResponse, answerer: Answerer) => void

interface Pending {
  asker: Answerer
  resolve: (result: Record<string, unknown>) => void
  reject: (error: Error) => void
}

export function answererOf (env: Pick<CallEnv, 'auth' | 'session'>): Answerer {
  return { ownerId: env.auth?.id ?? null, sessionId: env.session?.id }
}

/**
 * Server-to-client requests of the 2025 era (sampling, elicitation, roots). Each goes out on whatever carries
 * messages for the calling request (its POST stream, the SSE stream, stdout) under an unguessable id that names
 * this process, and only the same identity in the same session (or, without a session, without one) can answer
 * it. An answer that reaches another process of a cluster is forwarded here by the id's origin.
 */
export class ClientRequests {
  private readonly pending = new Map<string, Pending>()

  /**
   * @param origin names this process in request ids: its replica id in a cluster, else random.
   * @param forward carries answers for requests another process asked; without it they are not ours to settle.
   */
  constructor (
    private readonly origin: string = randomBytes(6).toString('base64url'),
    private readonly forward?: ForwardAnswer
  ) {}

  async ask (env: CallEnv, signal: AbortSignal, requests: InputRequests): Promise<InputResponses> {
    const entries = await Promise.all(Object.entries(requests).map(async ([key, request]) =>
      [key, await this.send(env, signal, request.method, request.params)] as const))
    return Object.fromEntries(entries)
  }

  /**
   * Routes a client's answer to the request waiting for it: here, or in the process that asked. False when it is
   * not an answer to any request of ours (unknown id, or another identity or session).
   */
  settle (response: JsonRpcResponse, answerer: Answerer): boolean {
    const id = String(response.id)
    const dot = id.indexOf('.')
    const origin = dot === -1 ? '' : id.slice(0, dot)
    if (origin !== this.origin) {
      if (this.forward === undefined || origin === '') return false
      this.forward(origin, response, answerer)
      return true
    }
    const pending = this.pending.get(id)
    if (pending === undefined || pending.asker.ownerId !== answerer.ownerId || pending.asker.sessionId !== answerer.sessionId) return false
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
    const id = `${this.origin}.${randomBytes(12).toString('base64url')}`
    return await new Promise((resolve, reject) => {
      const onAbort = (): void => {
        this.pending.delete(id)
        reject(signal.reason)
      }
      signal.addEventListener('abort', onAbort, { once: true })
      this.pending.set(id, {
        asker: answererOf(env),
        resolve: (result) => { signal.removeEventListener('abort', onAbort); resolve(result) },
        reject: (error) => { signal.removeEventListener('abort', onAbort); reject(error) }
      })
      const request: JsonRpcRequest = { jsonrpc: '2.0', id, method, params }
      notify(request)
    })
  }
}
