import { randomBytes, randomUUID } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { failure, ErrorCode, type ClassifiedMessage, type JsonRpcId, type JsonRpcRequest, type JsonRpcResponse } from '../../protocol/jsonrpc.js'
import type { CallEnv } from '../../protocol/call-env.js'
import { RequestCancelledError } from '../../protocol/run-handler.js'
import { TOO_MANY_SUBSCRIPTIONS } from '../../protocol/client-session.js'
import { changeNotification, type ChangeEvent } from '../../dispatch/notification-hub.js'
import { STANDALONE_STREAM, type SessionState, type SessionStateStore } from '../../sessions/session-state.js'
import type { LegContext } from '../leg-context.js'
import { acceptsEventStream, reachStore, refuseOverIdentityCap, refuseWhileDraining } from '../http/http-checks.js'
import { refusals } from '../http/refusals.js'
import { LocalSessions, StoredClientSession, type LocalSession } from './local-sessions.js'
import { SessionAnswer, type SessionAnswerContext } from './session-answer.js'
import { parseEventId, SessionStreamConnection } from './session-stream-connection.js'

export type ValidMessage = Exclude<ClassifiedMessage, { kind: 'invalid' }>

/** The stateful half of `/mcp`, used when `streamable.sessions` is on. */
export interface StatefulHandlers {
  /** A POST whose headers and body have been checked. */
  post: (request: FastifyRequest, reply: FastifyReply, message: ValidMessage) => Promise<FastifyReply | undefined>
  /** `GET /mcp`: the session's standalone stream, or the resumption of any of its streams with `Last-Event-ID`. */
  openStream: (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>
  /** `DELETE /mcp`: ends the session. */
  endSession: (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>
}

const SESSION_HEADER = 'mcp-session-id'

function isTooManySubscriptions (response: JsonRpcResponse | undefined): boolean {
  return response !== undefined && 'error' in response && (response.error.data as { reason?: unknown } | undefined)?.reason === TOO_MANY_SUBSCRIPTIONS
}
const LATER = Symbol('later')

/** Resolves after the current turn of the event loop: what a handler did not finish by then is not instant. */
async function nextTurn (): Promise<typeof LATER> {
  return await new Promise((resolve) => { setImmediate(resolve, LATER) })
}

function sessionHeader (request: FastifyRequest): string | undefined {
  const value = request.headers[SESSION_HEADER]
  return typeof value === 'string' && value !== '' ? value : undefined
}

function rpcIdOf (message: ValidMessage): JsonRpcId | null {
  return message.kind === 'request' ? message.message.id : null
}

/** Browsers show a response header to scripts only when CORS exposes it: the session id must be readable. */
export async function exposeSessionHeader (_request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const current = reply.getHeader('access-control-expose-headers')
  const list = Array.isArray(current) ? current.join(', ') : current === undefined ? '' : String(current)
  if (/(^|,)\s*(mcp-session-id|\*)\s*(,|$)/i.test(list)) return
  reply.header('access-control-expose-headers', list === '' ? 'Mcp-Session-Id' : `${list}, Mcp-Session-Id`)
}

/**
 * Protocol sessions per the 2025-11-25 Streamable HTTP transport: `initialize` issues an `Mcp-Session-Id`, every
 * later request must carry it (400 without, 404 when unknown, ended, or another caller's), `GET` opens the
 * session's stream (one at a time: 409) or resumes any of its streams, `DELETE` ends it. What a session is lives in
 * the session state store, so in cluster mode any replica serves any request; what runs and streams here is kept
 * in `LocalSessions`.
 */
export function createStatefulHandlers (
  app: FastifyInstance,
  leg: LegContext,
  checkProtocolVersion: (request: FastifyRequest) => void
): StatefulHandlers {
  const { dispatcher, lifecycle, config, broker, loggers, telemetry } = leg
  const streamCut = telemetry === undefined ? undefined : () => { telemetry.slowReader('stateful-stream') }
  const store = leg.statefulSessions as SessionStateStore
  const { keepAliveMs, retryMs, maxBufferedBytes } = config.streamable
  const sessions = new LocalSessions()
  const holderPrefix = `${broker.replica}/`
  const answers: SessionAnswerContext = {
    store,
    sessions,
    replica: broker.replica,
    settings: { keepAliveMs, retryMs, maxBufferedBytes },
    newHolder: () => holderPrefix + randomBytes(6).toString('base64url')
  }

  store.onEnd((id, reason) => {
    sessions.ended(id, reason)
    if (reason === 'idle') app.log.info({ sessionId: id }, 'Streamable HTTP session ended after idle timeout')
  })
  // A change reaches every stateful session that wants it through its standalone stream, once, from the replica
  // where it happened; the replica holding the session's GET connection (if any) carries it.
  dispatcher.addRelay(async function relayChange (event: ChangeEvent): Promise<number> {
    const data = JSON.stringify(changeNotification(event))
    try {
      const audience = await store.audience(event.kind === 'resource-updated' ? event.uri : undefined)
      // A session that ended meanwhile has nowhere to keep the notification, and needs none.
      const told = await Promise.all(audience.map(async (id) => await store.append(id, STANDALONE_STREAM, data, false).then(() => 1, () => 0)))
      return told.reduce<number>((sum, count) => sum + count, 0)
    } catch (error) {
      app.log.error({ err: error, change: event }, 'A change notification could not reach the stateful sessions: the session store is unreachable')
      return 0
    }
  })
  lifecycle.onEndStreams(() => {
    sessions.endAll('shutdown')
    store.leave().catch((error: unknown) => { app.log.warn({ err: error }, 'The session store could not be told that this process stops') })
  })
  app.addHook('onClose', async function closeSessionStore () { await store.close() })

  async function sessionOf (request: FastifyRequest, rpcId: JsonRpcId | null = null): Promise<SessionState> {
    const id = sessionHeader(request)
    if (id === undefined) throw refusals.missingSessionId(rpcId)
    const state = await reachStore(store.load(id, request.mcpAuth?.id ?? null), rpcId)
    if (state === undefined) throw refusals.sessionNotFound(rpcId)
    return state
  }

  function envFor (request: FastifyRequest, state: SessionState, local: LocalSession): CallEnv {
    const owner = request.mcpAuth ?? undefined
    // The session's signal, not the connection's: a client that drops a POST stream may come back for it.
    const session = new StoredClientSession(state, owner, local, store, config.maxSubscriptionsPerSession)
    return { transport: 'streamable-http', auth: owner, session, log: loggers.forCall(request), signal: local.signal, http: request }
  }

  async function startSession (request: FastifyRequest, reply: FastifyReply, message: JsonRpcRequest): Promise<FastifyReply> {
    if (sessionHeader(request) !== undefined) throw refusals.initializeWithSession(message.id)
    const quotaKey = await refuseOverIdentityCap(leg.identityCap, request, message.id, makeRoom)
    const state: SessionState = { id: randomUUID(), ownerId: request.mcpAuth?.id ?? null, quotaKey }
    if (!await reachStore(store.create(state), message.id)) throw refusals.sessionsFull(store.maxSessions, message.id)
    const local = sessions.acquire(state.id)
    try {
      const response = await dispatcher.handleRequest(message, envFor(request, state, local))
      if (response === undefined || 'error' in response) {
        await store.end(state.id, 'deleted')
        return response === undefined ? await reply.code(204).send() : await reply.send(response)
      }
      loggers.forCall(request).info({ sessionId: state.id }, 'Streamable HTTP session started')
      return await reply.header(SESSION_HEADER, state.id).send(response)
    } finally {
      sessions.release(local)
    }
  }

  /**
   * A caller at its session cap that starts another session has evidently lost track of an old one: its least
   * recently used session idle for `evictIdleAfterMs`, with nothing running and no stream open, makes room.
   */
  async function makeRoom (quotaKey: string): Promise<boolean> {
    const evicted = await store.evictIdle(quotaKey, config.streamable.evictIdleAfterMs)
    if (evicted !== undefined) app.log.info({ sessionId: evicted, quotaKey }, 'Streamable HTTP session evicted: its caller reached maxSessionsPerIdentity and started another')
    return evicted !== undefined
  }

  /** Answers as JSON when the result is ready at once, else on a resumable stream (see `SessionAnswer`). */
  async function answer (request: FastifyRequest, reply: FastifyReply, state: SessionState, message: JsonRpcRequest): Promise<FastifyReply | undefined> {
    const local = sessions.acquire(state.id)
    if (local.inFlight.size >= config.streamable.maxInFlight) {
      sessions.release(local)
      request.log.warn({ sessionId: state.id, limit: config.streamable.maxInFlight }, 'Request refused: the session has streamable.maxInFlight requests running')
      throw refusals.statefulBusy(config.streamable.maxInFlight, message.id)
    }
    const env = envFor(request, state, local)
    const post = new SessionAnswer(answers, local, message.id, reply, request.log)
    env.notify = post.notify
    const leave = lifecycle.enter()
    try {
      const work = dispatcher.handleRequest(message, env)
      const early: JsonRpcResponse | undefined | typeof LATER = await Promise.race([work, nextTurn()])
      if (early !== LATER && !post.streaming) {
        if (isTooManySubscriptions(early)) reply.code(429)
        return await post.finish(early)
      }
      void post.open().catch(() => {})
      return await post.finish(await work)
    } finally {
      void store.touch(state.id).catch(() => {})
      sessions.release(local)
      leave()
    }
  }

  /** `notifications/cancelled` for a call running here stops it; for one running on another replica, that one is told. */
  function cancel (request: FastifyRequest, state: SessionState, message: Extract<ValidMessage, { kind: 'notification' }>['message']): void {
    const requestId = message.params?.requestId
    if (typeof requestId !== 'string' && typeof requestId !== 'number') return
    const running = sessions.get(state.id)?.inFlight.get(requestId)
    if (running !== undefined) {
      running.abort(new RequestCancelledError(message.params?.reason))
      return
    }
    broker.broadcast({ kind: 'cancel', sessionId: state.id, ownerId: state.ownerId, requestId, reason: message.params?.reason })
      .catch((error: unknown) => { request.log.warn({ err: error, sessionId: state.id }, 'A cancellation could not reach the other replicas') })
  }

  // The replica that relayed the cancellation loaded the session for its caller, as for a local one.
  broker.handle({
    event (event) {
      if (event.kind !== 'cancel') return
      sessions.get(event.sessionId)?.inFlight.get(event.requestId)?.abort(new RequestCancelledError(event.reason))
    }
  })

  async function post (request: FastifyRequest, reply: FastifyReply, classified: ValidMessage): Promise<FastifyReply | undefined> {
    if (classified.kind === 'request' && classified.message.method === 'initialize') {
      return await startSession(request, reply, classified.message)
    }
    const state = await sessionOf(request, rpcIdOf(classified))
    switch (classified.kind) {
      case 'request':
        return await answer(request, reply, state, classified.message)
      case 'notification':
        if (classified.message.method === 'notifications/cancelled') cancel(request, state, classified.message)
        break
      case 'response':
        if (!dispatcher.settleAnswer(classified.message, { ownerId: state.ownerId, sessionId: state.id })) {
          request.log.debug({ id: classified.message.id }, 'Ignored a response nobody waited for')
        }
    }
    return await reply.code(202).send()
  }

  /** Carries `streamId` of the session on this GET, from `afterSeq` on; `takeOver` for a resume (see `SessionStreamConnection`). */
  async function connect (
    request: FastifyRequest, reply: FastifyReply, state: SessionState, streamId: string, afterSeq: number | undefined, holder: string, takeOver = false
  ): Promise<SessionStreamConnection> {
    const connection = new SessionStreamConnection(store, state.id, streamId, holder, answers.settings)
    sessions.attach(sessions.acquire(state.id), connection)
    reply.header(SESSION_HEADER, state.id)
    const gap = await reachStore(connection.start(reply, afterSeq, request.log, streamCut, takeOver))
    if (telemetry !== undefined && connection.open) {
      const watch = telemetry.streamOpened('stateful-stream', request, state.id)
      connection.whenEnded((why) => { watch.closed(why) })
    }
    if (gap) request.log.warn({ sessionId: state.id, streamId, limits: config.streamable.eventStore }, 'A resumed stream missed events the event store no longer kept')
    return connection
  }

  /** Replays the stream `Last-Event-ID` names from that event on, then carries it live if it is still running. */
  async function resume (request: FastifyRequest, reply: FastifyReply, state: SessionState, lastEventId: string): Promise<FastifyReply | undefined> {
    const cursor = parseEventId(lastEventId)
    if (cursor === undefined) throw refusals.unknownLastEventId(lastEventId)
    const status = cursor.streamId === STANDALONE_STREAM ? undefined : await reachStore(store.status(state.id, cursor.streamId))
    // An answer that was completed and has nothing kept: 204 tells an event-stream client not to reconnect.
    if (status?.state === 'released') return await reply.code(204).send()
    if (status?.state === 'unknown') throw refusals.unknownLastEventId(lastEventId)
    const holder = answers.newHolder()
    const connection = await connect(request, reply, state, cursor.streamId, cursor.seq, holder, true)
    // A resumed GET stream holds the standalone stream as a fresh one does, until it ends.
    if (cursor.streamId === STANDALONE_STREAM) connection.whenEnded(() => { store.releaseStandalone(state.id, holder).catch(() => {}) })
    if (status?.state === 'finished') connection.end('finished')
    else if (status?.state === 'running') watchRunner(request, state, cursor.streamId, status.replica, status.requestId, connection)
    return undefined
  }

  /**
   * While a resumed answer waits for a call another replica runs, that replica's heartbeat is watched: if it died,
   * the stream ends with an error for the call instead of waiting forever.
   */
  function watchRunner (request: FastifyRequest, state: SessionState, streamId: string, runner: string, requestId: JsonRpcId, connection: SessionStreamConnection): void {
    if (runner === broker.replica) return
    const lost = JSON.stringify(failure(requestId, ErrorCode.InternalError,
      'The call was lost: the server replica running it stopped before it finished; send the request again'))
    const check = async (): Promise<void> => {
      if (!connection.open || await broker.isAlive(runner)) return
      await store.finishLost(state.id, streamId, lost)
      request.log.warn({ sessionId: state.id, streamId, replica: runner }, 'A resumed call was lost with its replica')
    }
    const timer = setInterval(() => { check().catch(() => {}) }, leg.livenessCheckMs)
    timer.unref()
    connection.whenEnded(() => { clearInterval(timer) })
    check().catch(() => {})
  }

  async function openStream (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    refuseWhileDraining(lifecycle)
    if (!acceptsEventStream(request.headers.accept)) throw refusals.notAcceptableStream()
    checkProtocolVersion(request)
    const state = await sessionOf(request)
    if (reply.raw.destroyed) {
      // The client left while it was being authenticated: nothing to open.
      reply.hijack()
      return undefined
    }
    const lastEventId = request.headers['last-event-id']
    if (typeof lastEventId === 'string' && lastEventId !== '') return await resume(request, reply, state, lastEventId)
    const holder = answers.newHolder()
    const claim = await reachStore(store.claimStandalone(state.id, holder))
    if (!claim.claimed) throw refusals.streamAlreadyOpen()
    // The first connection also gets what was sent before it opened (a subscription update, say).
    const connection = await connect(request, reply, state, STANDALONE_STREAM, claim.first ? 0 : undefined, holder)
    connection.whenEnded(() => { store.releaseStandalone(state.id, holder).catch(() => {}) })
    return undefined
  }

  async function endSession (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    checkProtocolVersion(request)
    const state = await sessionOf(request)
    await reachStore(store.end(state.id, 'deleted'))
    loggers.forCall(request).info({ sessionId: state.id }, 'Streamable HTTP session ended by the client')
    return await reply.code(204).send()
  }

  return { post, openStream, endSession }
}
