import type { FastifyReply, FastifyRequest } from 'fastify'
import { success, type JsonRpcFailure, type JsonRpcRequest, type JsonRpcResponse } from '../../protocol/jsonrpc.js'
import { HttpRequestEnv } from './request-env.js'
import type { StatelessCalls } from './stateless-calls.js'
import { declaresModernEra, MODERN_PROTOCOL_VERSION, type ModernRequest } from '../../protocol/modern/envelope.js'
import { checkModernHttpRequest, checkParamHeaders, modernHttpStatus } from '../../protocol/modern/http-rules.js'
import type { LegContext } from '../leg-context.js'
import { PostAnswer } from './post-answer.js'
import { refuseOverIdentityCap } from '../http/http-checks.js'
import { refusals } from '../http/refusals.js'

/**
 * A POST belongs to the 2026-07-28 era when it declares that era: `_meta` carries a protocol version (any: an
 * unknown one is refused by that era's rules), or the header names 2026-07-28. Whatever else it carries: an
 * `Mcp-Session-Id` (that era has no sessions) must not switch off the header rules a gateway may rely on.
 */
export function isModernPost (request: FastifyRequest, message: JsonRpcRequest): boolean {
  return declaresModernEra(message) || request.headers['mcp-protocol-version'] === MODERN_PROTOCOL_VERSION
}

export interface ModernPostHandler {
  /** Answers at once (undefined) when the method is synchronous; else the promise of the answer having been sent. */
  post: (request: FastifyRequest, reply: FastifyReply, message: JsonRpcRequest) => Promise<unknown> | undefined
  /** Ends every open `subscriptions/listen` stream (server closing). */
  closeListens: () => void
}

/**
 * 2026-07-28 requests on Streamable HTTP: the revision's header rules, statuses by error kind (404 for an unknown
 * method, 400 for envelope errors), cancellation by closing the response, and `subscriptions/listen` streams.
 */
export function createModernPostHandler (leg: LegContext, statelessCalls: StatelessCalls): ModernPostHandler {
  const { dispatcher, lifecycle, config, loggers, telemetry } = leg
  const { maxBufferedBytes, keepAliveMs } = config.streamable
  const postCut = telemetry === undefined ? undefined : () => { telemetry.slowReader('post') }
  const listenCut = telemetry === undefined ? undefined : () => { telemetry.slowReader('listen') }
  const listens = new Set<() => void>()

  /** A listen stream holds a connection as a session does: capped per process and counted per caller. */
  async function listen (request: FastifyRequest, reply: FastifyReply, message: JsonRpcRequest): Promise<undefined> {
    if (leg.listenStreams.full) throw refusals.listenFull(leg.listenStreams.maxStreams, message.id)
    const quotaKey = await refuseOverIdentityCap(leg.identityCap, request, message.id)
    const counted = leg.listenStreams.add(quotaKey)
    const answer = new PostAnswer(reply, maxBufferedBytes, keepAliveMs, listenCut)
    const subscription = dispatcher.listen(message, answer.notify)
    const watch = telemetry?.streamOpened('listen', request, String(message.id))
    answer.notify(subscription.acknowledgement)
    const close = (why: string): void => {
      subscription.close()
      counted()
      watch?.closed(why)
    }
    const end = (): void => {
      if (!listens.delete(end)) return
      close('shutdown')
      answer.finish(success(message.id, { resultType: 'complete' }))
    }
    listens.add(end)
    reply.raw.once('close', () => {
      if (listens.delete(end)) close(reply.raw.writableFinished ? 'ended' : 'client-closed')
    })
    return undefined
  }

  /** A request the revision's header rules refuse: 400 with its JSON-RPC error, never dispatched. */
  function refuse (request: FastifyRequest, reply: FastifyReply, refusal: JsonRpcFailure): undefined {
    leg.telemetry?.refused(request, 400, refusal.error.code, refusal.error.message)
    reply.code(400).send(refusal)
    return undefined
  }

  /**
   * Not an async function, like the 2025 path: the era was decided once (isModernPost), the envelope is checked
   * once here and handed to the dispatcher as the env's `modern`, and a synchronous answer is sent with no promise.
   */
  function post (request: FastifyRequest, reply: FastifyReply, message: JsonRpcRequest): Promise<unknown> | undefined {
    const checked = checkModernHttpRequest(request.headers, message)
    if ('jsonrpc' in checked) return refuse(request, reply, checked)
    if (message.method === 'tools/call' && typeof message.params?.name === 'string') {
      const paramHeaders = dispatcher.tools.paramHeaders(message.params.name)
      const refused = paramHeaders.length === 0 ? undefined : checkParamHeaders(request.headers, message, paramHeaders)
      if (refused !== undefined) return refuse(request, reply, refused)
    }
    if (message.method === 'subscriptions/listen') return listen(request, reply, message)
    const answer = new PostAnswer(reply, maxBufferedBytes, keepAliveMs, postCut)
    const leave = lifecycle.enter()
    let response: ReturnType<typeof dispatcher.handleModernRequest>
    try {
      response = dispatcher.handleModernRequest(message, new HttpRequestEnv(request, reply, answer.notify, checked, loggers, statelessCalls) as HttpRequestEnv & { modern: ModernRequest })
    } catch (error) {
      leave()
      throw error
    }
    if (!(response instanceof Promise)) {
      finish(reply, answer, response, leave)
      return undefined
    }
    return response.then((settled) => { finish(reply, answer, settled, leave) })
  }

  function finish (reply: FastifyReply, answer: PostAnswer, response: JsonRpcResponse | undefined, leave: () => void): void {
    try {
      if (response !== undefined) reply.code(modernHttpStatus(response))
      answer.finish(response)
    } finally {
      leave()
    }
  }

  return {
    post,
    closeListens: () => { for (const end of [...listens]) end() }
  }
}
