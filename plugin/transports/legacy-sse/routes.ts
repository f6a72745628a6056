import { randomUUID } from 'node:crypto'
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { classifyMessage, ErrorCode, failure, type JsonRpcRequest } from '../../protocol/jsonrpc.js'
import type { CallEnv, HttpOrigin } from '../../protocol/call-env.js'
import type { AuthIdentity } from '../../protocol/identity.js'
import type { SessionStore } from '../../sessions/session-store.js'
import type { LegContext } from '../leg-context.js'
import { isJsonContentType, reachStore, refuseOverIdentityCap, refuseWhileDraining } from '../http/http-checks.js'
import { HttpRefusal, refusals } from '../http/refusals.js'
import { openEventStream } from '../http/event-stream.js'
import { STREAM_ROUTE } from '../http/stream-route.js'
import { SseSession } from './sse-session.js'
import type { Logger } from '../../protocol/logger.js'
import type { StreamWatch } from '../../telemetry/telemetry.js'
import { RelayUnconfirmedError } from '../../cluster/broker.js'
import type { SseLocation } from '../../sessions/sse-directory.js'
import { BoundedMap } from '../../sessions/bounded-map.js'

const MAX_KNOWN_LOCATIONS = 10_000

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
  const { dispatcher, lifecycle, config, broker, loggers, telemetry } = leg
  const streamCut = telemetry === undefined ? undefined : () => { telemetry.slowReader('sse') }
  const store = leg.sseSessions as SessionStore<SseSession>
  const messagesPath = `${app.prefix}/messages`

  /** The stream's connection closed, whoever closed it: the session is forgotten at once. */
  function onConnectionClose (session: SseSession, log: FastifyBaseLogger, watch: StreamWatch | undefined): void {
    const forgotten = store.delete(session.id)
    leg.sseDirectory?.forget(session.id).catch((error: unknown) => {
      log.warn({ err: error, sessionId: session.id }, 'A closed SSE session could not be removed from the cluster directory; it expires with the liveness window')
    })
    session.disconnected()
    watch?.closed(session.overflowed ? 'slow-reader' : session.closedFor ?? 'client-closed')
    if (session.overflowed) {
      log.warn({ sessionId: session.id, limitBytes: config.sse.maxBufferedBytes }, 'SSE client is not reading its stream; session closed')
    } else if (forgotten) {
      log.debug({ sessionId: session.id }, 'SSE client disconnected')
    }
  }

  async function openStream (request: FastifyRequest, reply: FastifyReply): Promise<void> {
    refuseWhileDraining(lifecycle)
    const quotaKey = await refuseOverIdentityCap(leg.identityCap, request)
    if (store.size >= store.maxSessions) throw refusals.sseFull(store.maxSessions)
    const owner = request.mcpAuth ?? undefined
    const id = randomUUID()
    // Announced before the client learns where to post, so that its first POST, on any replica, finds the stream.
    await reachStore(leg.sseDirectory?.announce(id, owner?.id ?? null, quotaKey) ?? Promise.resolve())
    if (reply.raw.destroyed) {
      // The client left while it was being authenticated: its close event has passed, so no session for it.
      await leg.sseDirectory?.forget(id).catch(() => {})
      reply.hijack()
      return
    }
    const session = new SseSession(id, owner, quotaKey, openEventStream(reply, config.sse.maxBufferedBytes, streamCut), config.maxSubscriptionsPerSession)
    store.add(session)
    session.detach = dispatcher.attachSession(session.client)
    // With the per-call lines on, telemetry writes the open and close lines (request.log is quiet at info there).
    const watch = telemetry?.streamOpened('sse', request, session.id)
    reply.raw.once('close', () => { onConnectionClose(session, request.log, watch) })
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
  function refuseWhileBusy (session: SseSession, log: Logger, message: JsonRpcRequest): void {
    const limit = config.sse.maxInFlight
    if (session.pendingRequests < limit) return
    log.warn({ sessionId: session.id, limit }, 'SSE request refused: the session has sse.maxInFlight requests running')
    throw refusals.sseBusy(limit, message.id)
  }

  /**
   * Takes one message for a session whose stream this process holds, wherever it was posted: a request is answered
   * on the stream, a notification or a client's answer handed to the dispatcher. Throws the refusal otherwise.
   * While draining, new requests are refused; answers and cancellations still help the calls in flight end.
   * `caller` is who posted it (same identity as the owner; its token may be newer, with other scopes); a message
   * relayed from another replica carries only the identity's id, so it runs as the session's owner.
   */
  function deliver (session: SseSession, body: unknown, log: Logger, caller: AuthIdentity | undefined, http?: HttpOrigin): void {
    const classified = classifyMessage(body)
    if (classified.kind === 'invalid') throw refusals.invalidMessage(classified.reason, classified.id)
    if (classified.kind === 'request') {
      refuseWhileDraining(lifecycle, classified.message.id)
      refuseWhileBusy(session, log, classified.message)
    }
    store.touch(session)
    const env: CallEnv = {
      transport: 'sse',
      auth: caller,
      session: session.client,
      log,
      signal: session.signal,
      notify: session.client.send,
      http
    }
    if (classified.kind === 'notification') dispatcher.handleNotification(classified.message, env)
    else if (classified.kind === 'response') {
      if (!dispatcher.handleResponse(classified.message, env)) log.debug({ id: classified.message.id }, 'Ignored a response nobody waited for')
    } else answer(session, classified.message, env)
  }

  /**
   * Where other replicas' streams are: a session's replica and owner never change, so a location found once is kept
   * (bounded) and the directory is asked once per session, not per message. The owner's verdict stays the truth: a
   * stream that ended answers 404 from its owner, or no replica answers at all.
   */
  const locations = new BoundedMap<string, SseLocation>(MAX_KNOWN_LOCATIONS)

  /** A message for a session whose stream another replica holds goes to that replica, which decides as if posted there. */
  async function relay (sessionId: string, ownerId: string | null, body: unknown): Promise<void> {
    const directory = leg.sseDirectory
    const classified = classifyMessage(body)
    const rpcId = classified.kind === 'request' ? classified.message.id : classified.kind === 'invalid' ? classified.id : null
    const location = directory === undefined ? undefined : locations.get(sessionId) ?? await reachStore(directory.locate(sessionId), rpcId)
    if (location === undefined || location.ownerId !== ownerId) throw refusals.sseSessionNotFound()
    const verdict = location.replica === broker.replica
      ? undefined
      : await broker.request(location.replica, { kind: 'sse-message', sessionId, ownerId, message: body }).catch((error: unknown) => {
        // The owner got the message and may have taken it: a 503 ("retry") would risk running it twice.
        if (error instanceof RelayUnconfirmedError) throw refusals.sseRelayUnconfirmed(rpcId)
        throw Object.assign(refusals.clusterUnavailable(rpcId), { cause: error })
      })
    if (verdict === undefined) {
      // No replica holds the stream any more: the record is stale, and the client must open a new stream.
      locations.delete(sessionId)
      await directory?.forget(sessionId).catch(() => {})
      throw refusals.sseSessionNotFound()
    }
    if (verdict.status === 404) locations.delete(sessionId)
    else locations.set(sessionId, location)
    if (verdict.error !== undefined) {
      const { code, message, id, retryAfter } = verdict.error
      throw new HttpRefusal(verdict.status, message, code, id, retryAfter === undefined ? undefined : { 'retry-after': retryAfter })
    }
  }

  broker.handle({
    async request (relayed) {
      const session = store.get(relayed.sessionId, relayed.ownerId === null ? null : { id: relayed.ownerId })
      try {
        if (session === undefined) throw refusals.sseSessionNotFound()
        deliver(session, relayed.message, app.log, session.owner)
        return { status: 202 }
      } catch (error) {
        if (!(error instanceof HttpRefusal)) throw error
        return { status: error.statusCode, error: { code: error.rpcCode, message: error.message, id: error.rpcId, retryAfter: error.headers?.['retry-after'] } }
      }
    }
  })

  async function postMessage (request: FastifyRequest<{ Querystring: { sessionId?: string } }>, reply: FastifyReply): Promise<FastifyReply> {
    const sessionId = request.query.sessionId
    if (typeof sessionId !== 'string' || sessionId === '') throw refusals.missingSseSessionId()
    const session = store.get(sessionId, request.mcpAuth)
    if (session === undefined && leg.sseDirectory === undefined) throw refusals.sseSessionNotFound()
    if (!isJsonContentType(request.headers['content-type'])) throw refusals.unsupportedMediaType()
    if (session !== undefined) deliver(session, request.body, loggers.forCall(request), request.mcpAuth ?? undefined, request)
    else await relay(sessionId, request.mcpAuth?.id ?? null, request.body)
    return await reply.code(202).send()
  }

  app.get('/sse', STREAM_ROUTE, openStream)
  app.post('/messages', postMessage)
  if (!ignoresTrailingSlash(app)) app.post('/messages/', postMessage)
}
