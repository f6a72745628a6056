import { randomUUID } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { classifyMessage, ErrorCode } from '../protocol/jsonrpc.js'
import type { CallEnv } from '../protocol/call-env.js'
import { SSE_PROTOCOL_VERSION } from '../protocol/versions.js'
import type { SessionStore } from '../sessions/session-store.js'
import type { LegContext } from './leg-context.js'
import { isJsonContentType, refusal, refuseWhileDraining } from './http-checks.js'
import { openEventStream } from './sse-stream.js'
import { SseSession } from './sse-session.js'

const FULL_RETRY_AFTER_SECONDS = '30'

/**
 * The HTTP+SSE transport of MCP 2024-11-05, which n8n and older clients speak: `GET /sse` opens a stream whose
 * first event names the URL to POST messages to; answers travel back on the stream.
 */
export async function legacySseRoutes (app: FastifyInstance, { leg }: { leg: LegContext }): Promise<void> {
  const { dispatcher, lifecycle, config } = leg
  const store = leg.sseSessions as SessionStore<SseSession>
  const messagesPath = `${app.prefix}/messages`

  function onOverflow (session: SseSession): void {
    store.delete(session.id)
    session.close('overflow')
    app.log.warn({ sessionId: session.id, limitBytes: config.sse.maxBufferedBytes }, 'SSE client is not reading its stream; session closed')
  }

  async function openStream (request: FastifyRequest, reply: FastifyReply): Promise<void> {
    refuseWhileDraining(app, lifecycle, reply)
    if (store.size >= store.maxSessions) {
      reply.header('retry-after', FULL_RETRY_AFTER_SECONDS)
      throw refusal(app, 503, `Service Unavailable: all ${store.maxSessions} SSE sessions are in use; retry later or close an idle client`)
    }
    const id = randomUUID()
    const owner = request.mcpAuth ?? undefined
    const stream = openEventStream(reply, config.sse.maxBufferedBytes)
    const session = new SseSession(id, owner, stream, onOverflow)
    session.client.protocolVersion = SSE_PROTOCOL_VERSION
    store.add(session)
    reply.raw.once('close', () => {
      if (store.delete(id)) request.log.debug({ sessionId: id }, 'SSE client disconnected')
      session.disconnected()
    })
    stream.send('endpoint', `${messagesPath}?sessionId=${id}`)
    stream.startKeepAlive(config.sse.keepAliveMs)
    request.log.info({ sessionId: id, identity: owner?.id, sessions: store.size }, 'SSE session opened')
  }

  async function postMessage (request: FastifyRequest<{ Querystring: { sessionId?: string } }>, reply: FastifyReply): Promise<FastifyReply> {
    refuseWhileDraining(app, lifecycle, reply)
    const sessionId = request.query.sessionId
    if (typeof sessionId !== 'string' || sessionId === '') {
      throw refusal(app, 400, 'Bad Request: missing "sessionId" query parameter; POST to the URL the /sse stream sent in its "endpoint" event')
    }
    const session = store.get(sessionId, request.mcpAuth)
    if (session === undefined) {
      throw refusal(app, 404, 'Session not found: it expired, was closed, or belongs to another caller; open a new stream with GET /sse')
    }
    if (!isJsonContentType(request.headers['content-type'])) {
      throw refusal(app, 415, 'Unsupported Media Type: send the JSON-RPC message with "Content-Type: application/json"')
    }
    const classified = classifyMessage(request.body)
    if (classified.kind === 'invalid') {
      throw refusal(app, 400, `Invalid Request: ${classified.reason}`, ErrorCode.InvalidRequest, classified.id)
    }
    store.touch(session)
    const env: CallEnv = {
      transport: 'sse',
      auth: request.mcpAuth ?? undefined,
      session: session.client,
      log: request.log,
      signal: session.signal,
      notify: session.client.send
    }
    if (classified.kind === 'notification') dispatcher.handleNotification(classified.message, env)
    if (classified.kind === 'request') {
      const leave = lifecycle.enter()
      dispatcher.handleRequest(classified.message, env)
        .then((response) => { if (response !== undefined) session.send(response) })
        .finally(leave)
    }
    return await reply.code(202).send()
  }

  app.get('/sse', openStream)
  app.post('/messages', postMessage)
  app.post('/messages/', postMessage)
}
