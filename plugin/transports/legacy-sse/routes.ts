import { randomUUID } from 'node:crypto'
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { classifyMessage, ErrorCode, failure, type JsonRpcRequest } from '../../protocol/jsonrpc.js'
import type { CallEnv } from '../../protocol/call-env.js'
import { SSE_PROTOCOL_VERSION } from '../../protocol/versions.js'
import type { SessionStore } from '../../sessions/session-store.js'
import type { LegContext } from '../leg-context.js'
import { isJsonContentType, refuseOverIdentityCap, refuseWhileDraining } from '../http/http-checks.js'
import { refusals } from '../http/refusals.js'
import { openEventStream } from '../http/event-stream.js'
import { SseSession } from './sse-session.js'

/** With the router's `ignoreTrailingSlash` on, `/messages` already answers `/messages/` (a second route would clash). */
function ignoresTrailingSlash (app: FastifyInstance): boolean {
  const config = app.initialConfig as { routerOptions?: { ignoreTrailingSlash?: boolean }, ignoreTrailingSlash?: boolean }
  return config.routerOptions?.ignoreTrailingSlash ?? config.ignoreTrailingSlash ?? false
}

/**
 * The HTTP+SSE transport of MCP 2024-11-05, which n8n and older clients speak: `GET /sse` opens a stream whose
 * first event names the URL to POST messages to; answers travel back on the stream.
 */
export async function legacySseRoutes (app: FastifyInstance, { leg }: { leg: LegContext }): Promise<void> {
  const { dispatcher, lifecycle, config } = leg
  const store = leg.sseSessions as SessionStore<SseSession>
  const messagesPath = `${app.prefix}/messages`

  /** The stream's connection closed, whoever closed it: the session is forgotten at once. */
  function onConnectionClose (session: SseSession, log: FastifyBaseLogger): void {
    const forgotten = store.delete(session.id)
    session.disconnected()
    if (session.overflowed) {
      log.warn({ sessionId: session.id, limitBytes: config.sse.maxBufferedBytes }, 'SSE client is not reading its stream; session closed')
    } else if (forgotten) {
      log.debug({ sessionId: session.id }, 'SSE client disconnected')
    }
  }

  async function openStream (request: FastifyRequest, reply: FastifyReply): Promise<void> {
    refuseWhileDraining(lifecycle)
    refuseOverIdentityCap(leg.identityCap, request)
    if (store.size >= store.maxSessions) throw refusals.sseFull(store.maxSessions)
    if (reply.raw.destroyed) {
      // The client left while it was being authenticated: its close event has passed, so no session for it.
      reply.hijack()
      return
    }
    const owner = request.mcpAuth ?? undefined
    const session = new SseSession(randomUUID(), owner, openEventStream(reply, config.sse.maxBufferedBytes))
    session.client.protocolVersion = SSE_PROTOCOL_VERSION
    store.add(session)
    reply.raw.once('close', () => { onConnectionClose(session, request.log) })
    session.open(`${messagesPath}?sessionId=${session.id}`, config.sse.keepAliveMs)
    request.log.info({ sessionId: session.id, identity: owner?.id, sessions: store.size }, 'SSE session opened')
  }

  function answer (session: SseSession, request: JsonRpcRequest, env: CallEnv): void {
    const leave = lifecycle.enter()
    session.pendingRequests++
    Promise.resolve(dispatcher.handleRequest(request, env))
      .then((response) => { if (response !== undefined) session.send(response) })
      .catch((error: unknown) => {
        env.log.error({ err: error, sessionId: session.id }, 'Could not send an SSE answer')
        // The client still gets an answer for its id, so that it does not wait forever.
        session.send(failure(request.id, ErrorCode.InternalError, 'Internal error: the answer could not be sent; the failure was logged on the server'))
      })
      .finally(() => {
        session.pendingRequests--
        leave()
      })
  }

  /** A session that already has `sse.maxInFlight` requests running gets 429 for one more; its answers still arrive. */
  function refuseWhileBusy (session: SseSession, request: FastifyRequest, message: JsonRpcRequest): void {
    const limit = config.sse.maxInFlight
    if (session.pendingRequests < limit) return
    request.log.warn({ sessionId: session.id, limit }, 'SSE request refused: the session has sse.maxInFlight requests running')
    throw refusals.sseBusy(limit, message.id)
  }

  async function postMessage (request: FastifyRequest<{ Querystring: { sessionId?: string } }>, reply: FastifyReply): Promise<FastifyReply> {
    refuseWhileDraining(lifecycle)
    const sessionId = request.query.sessionId
    if (typeof sessionId !== 'string' || sessionId === '') throw refusals.missingSseSessionId()
    const session = store.get(sessionId, request.mcpAuth)
    if (session === undefined) throw refusals.sseSessionNotFound()
    if (!isJsonContentType(request.headers['content-type'])) throw refusals.unsupportedMediaType()
    const classified = classifyMessage(request.body)
    if (classified.kind === 'invalid') {
      throw refusals.invalidMessage(classified.reason, classified.id)
    }
    if (classified.kind === 'request') refuseWhileBusy(session, request, classified.message)
    store.touch(session)
    const env: CallEnv = {
      transport: 'sse',
      auth: request.mcpAuth ?? undefined,
      session: session.client,
      log: request.log,
      signal: session.signal,
      notify: session.client.send,
      http: request
    }
    if (classified.kind === 'notification') dispatcher.handleNotification(classified.message, env)
    if (classified.kind === 'request') answer(session, classified.message, env)
    return await reply.code(202).send()
  }

  // No automatic HEAD route: a HEAD would open (and at once drop) a session.
  app.get('/sse', { exposeHeadRoute: false }, openStream)
  app.post('/messages', postMessage)
  if (!ignoresTrailingSlash(app)) app.post('/messages/', postMessage)
}
