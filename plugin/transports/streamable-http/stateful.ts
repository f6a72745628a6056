import { randomUUID } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { type ClassifiedMessage, type JsonRpcId, type JsonRpcRequest, type JsonRpcResponse } from '../../protocol/jsonrpc.js'
import type { CallEnv } from '../../protocol/call-env.js'
import type { SessionStore } from '../../sessions/session-store.js'
import type { LegContext } from '../leg-context.js'
import { acceptsEventStream, refuseOverIdentityCap, refuseWhileDraining } from '../http/http-checks.js'
import { refusals } from '../http/refusals.js'
import { SessionPostAnswer } from './post-answer.js'
import { parseEventId } from './resumable-stream.js'
import { StreamableSession, type SessionSettings } from './streamable-session.js'

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
 * session's stream (one at a time: 409) or resumes any of its streams, `DELETE` ends it.
 */
export function createStatefulHandlers (
  app: FastifyInstance,
  leg: LegContext,
  checkProtocolVersion: (request: FastifyRequest) => void
): StatefulHandlers {
  const { dispatcher, lifecycle, config } = leg
  const store = leg.streamableSessions as SessionStore<StreamableSession>
  const { keepAliveMs, retryMs, maxBufferedBytes, eventStore } = config.streamable
  const settings: SessionSettings = { keepAliveMs, retryMs, maxBufferedBytes, eventStore }

  function sessionOf (request: FastifyRequest, rpcId: JsonRpcId | null = null): StreamableSession {
    const id = sessionHeader(request)
    if (id === undefined) {
      throw refusals.missingSessionId(rpcId)
    }
    const session = store.get(id, request.mcpAuth)
    if (session === undefined) {
      throw refusals.sessionNotFound(rpcId)
    }
    store.touch(session)
    return session
  }

  function envFor (request: FastifyRequest, session: StreamableSession): CallEnv {
    // The session's signal, not the connection's: a client that drops a POST stream may come back for it.
    return { transport: 'streamable-http', auth: request.mcpAuth ?? undefined, session: session.client, log: request.log, signal: session.signal, http: request }
  }

  async function startSession (request: FastifyRequest, reply: FastifyReply, message: JsonRpcRequest): Promise<FastifyReply> {
    if (sessionHeader(request) !== undefined) {
      throw refusals.initializeWithSession(message.id)
    }
    refuseOverIdentityCap(leg.identityCap, request, message.id)
    const session = new StreamableSession(randomUUID(), request.mcpAuth ?? undefined, settings)
    if (!store.add(session)) throw refusals.sessionsFull(store.maxSessions, message.id)
    const response = await dispatcher.handleRequest(message, envFor(request, session))
    if (response === undefined || 'error' in response) {
      store.delete(session.id)
      session.close('deleted')
      return response === undefined ? await reply.code(204).send() : await reply.send(response)
    }
    session.listen(dispatcher)
    request.log.info({ sessionId: session.id, identity: session.owner?.id, sessions: store.size }, 'Streamable HTTP session started')
    return await reply.header(SESSION_HEADER, session.id).send(response)
  }

  /** Answers as JSON when the result is ready at once, else on a resumable stream (see `SessionPostAnswer`). */
  async function answer (session: StreamableSession, message: JsonRpcRequest, env: CallEnv, reply: FastifyReply): Promise<FastifyReply | undefined> {
    const post = new SessionPostAnswer(session, reply)
    env.notify = post.notify
    const leave = lifecycle.enter()
    try {
      const work = dispatcher.handleRequest(message, env)
      const early: JsonRpcResponse | undefined | typeof LATER = await Promise.race([work, nextTurn()])
      if (early !== LATER && !post.streaming) return post.finish(early)
      post.open()
      return post.finish(await work)
    } finally {
      store.touch(session)
      leave()
    }
  }

  async function post (request: FastifyRequest, reply: FastifyReply, classified: ValidMessage): Promise<FastifyReply | undefined> {
    if (classified.kind === 'request' && classified.message.method === 'initialize') {
      return await startSession(request, reply, classified.message)
    }
    const session = sessionOf(request, rpcIdOf(classified))
    const env = envFor(request, session)
    switch (classified.kind) {
      case 'request':
        return await answer(session, classified.message, env, reply)
      case 'notification':
        dispatcher.handleNotification(classified.message, env)
        break
      case 'response':
        if (!dispatcher.handleResponse(classified.message, env)) request.log.debug({ id: classified.message.id }, 'Ignored a response nobody waited for')
    }
    return await reply.code(202).send()
  }

  /** Replays the stream `Last-Event-ID` names from that event on, then carries it live if it is still running. */
  function resume (request: FastifyRequest, reply: FastifyReply, session: StreamableSession, lastEventId: string): FastifyReply | undefined {
    const cursor = parseEventId(lastEventId)
    const stream = cursor === undefined ? undefined : session.findStream(cursor.streamId)
    if (cursor === undefined || stream === undefined) {
      // An answer that was completed and has nothing kept: 204 tells an event-stream client not to reconnect.
      if (cursor !== undefined && session.issued(cursor.streamId)) return reply.code(204).send()
      throw refusals.unknownLastEventId(lastEventId)
    }
    if (stream.connect(reply, cursor.seq)) {
      request.log.warn({ sessionId: session.id, lastEventId, limits: config.streamable.eventStore }, 'A resumed stream missed events the event store no longer kept')
    }
    return undefined
  }

  async function openStream (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    refuseWhileDraining(lifecycle)
    if (!acceptsEventStream(request.headers.accept)) throw refusals.notAcceptableStream()
    checkProtocolVersion(request)
    const session = sessionOf(request)
    const lastEventId = request.headers['last-event-id']
    if (reply.raw.destroyed) {
      // The client left while it was being authenticated: nothing to open.
      reply.hijack()
      return undefined
    }
    reply.header(SESSION_HEADER, session.id)
    if (typeof lastEventId === 'string' && lastEventId !== '') return resume(request, reply, session, lastEventId)
    const standalone = session.standalone
    if (standalone.connected) {
      throw refusals.streamAlreadyOpen()
    }
    // The first connection also gets what was sent before it opened (a subscription update, say).
    standalone.connect(reply, standalone.connectedBefore ? undefined : 0)
    return undefined
  }

  async function endSession (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    checkProtocolVersion(request)
    const session = sessionOf(request)
    store.delete(session.id)
    session.close('deleted')
    request.log.info({ sessionId: session.id, sessions: store.size }, 'Streamable HTTP session ended by the client')
    return await reply.code(204).send()
  }

  return { post, openStream, endSession }
}
