import type { FastifyReply, FastifyRequest } from 'fastify'
import { success, type JsonRpcRequest } from '../../protocol/jsonrpc.js'
import { HttpRequestEnv } from './request-env.js'
import type { StatelessCalls } from './stateless-calls.js'
import { declaresModernEra, MODERN_PROTOCOL_VERSION } from '../../protocol/modern/envelope.js'
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
  post: (request: FastifyRequest, reply: FastifyReply, message: JsonRpcRequest) => Promise<FastifyReply | undefined>
  /** Ends every open `subscriptions/listen` stream (server closing). */
  closeListens: () => void
}

/**
 * 2026-07-28 requests on Streamable HTTP: the revision's header rules, statuses by error kind (404 for an unknown
 * method, 400 for envelope errors), cancellation by closing the response, and `subscriptions/listen` streams.
 */
export function createModernPostHandler (leg: LegContext, statelessCalls: StatelessCalls): ModernPostHandler {
  const { dispatcher, lifecycle, config } = leg
  const { maxBufferedBytes, keepAliveMs } = config.streamable
  const listens = new Set<() => void>()

  /** A listen stream holds a connection as a session does: capped per process and counted per caller. */
  async function listen (request: FastifyRequest, reply: FastifyReply, message: JsonRpcRequest): Promise<undefined> {
    if (leg.listenStreams.full) throw refusals.listenFull(leg.listenStreams.maxStreams, message.id)
    const quotaKey = await refuseOverIdentityCap(leg.identityCap, request, message.id)
    const counted = leg.listenStreams.add(quotaKey)
    const answer = new PostAnswer(reply, maxBufferedBytes, keepAliveMs)
    const subscription = dispatcher.listen(message, answer.notify)
    answer.notify(subscription.acknowledgement)
    const close = (): void => {
      subscription.close()
      counted()
    }
    const end = (): void => {
      if (!listens.delete(end)) return
      close()
      answer.finish(success(message.id, { resultType: 'complete' }))
    }
    listens.add(end)
    reply.raw.once('close', () => {
      if (listens.delete(end)) close()
    })
    return undefined
  }

  async function post (request: FastifyRequest, reply: FastifyReply, message: JsonRpcRequest): Promise<FastifyReply | undefined> {
    const checked = checkModernHttpRequest(request.headers, message)
    if ('jsonrpc' in checked) return await reply.code(400).send(checked)
    if (message.method === 'tools/call' && typeof message.params?.name === 'string') {
      const refused = checkParamHeaders(request.headers, message, dispatcher.tools.paramHeaders(message.params.name))
      if (refused !== undefined) return await reply.code(400).send(refused)
    }
    if (message.method === 'subscriptions/listen') return await listen(request, reply, message)
    const answer = new PostAnswer(reply, maxBufferedBytes, keepAliveMs)
    const leave = lifecycle.enter()
    try {
      const response = await dispatcher.handleRequest(message, new HttpRequestEnv(request, reply, answer.notify, statelessCalls))
      if (response !== undefined) reply.code(modernHttpStatus(response))
      return answer.finish(response)
    } finally {
      leave()
    }
  }

  return {
    post,
    closeListens: () => { for (const end of [...listens]) end() }
  }
}
