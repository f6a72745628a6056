import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { classifyMessage, type JsonRpcResponse } from '../../protocol/jsonrpc.js'
import { isSupportedLegacyVersion, LEGACY_PROTOCOL_VERSIONS } from '../../protocol/versions.js'
import { MODERN_PROTOCOL_VERSION } from '../../protocol/modern/envelope.js'
import type { LegContext } from '../leg-context.js'
import { acceptsJsonAndEventStream, isJsonContentType, refuseWhileDraining } from '../http/http-checks.js'
import { refusals } from '../http/refusals.js'
import { PostAnswer } from './post-answer.js'
import { createStatefulHandlers, exposeSessionHeader } from './stateful.js'
import { createModernPostHandler, isModernPost } from './modern-post.js'
import { HttpRequestEnv } from './request-env.js'
import { StatelessCalls } from './stateless-calls.js'
import { rememberLast } from '../http/remember-last.js'
import { STREAM_ROUTE } from '../http/stream-route.js'

const SUPPORTED_VERSIONS = [MODERN_PROTOCOL_VERSION, ...LEGACY_PROTOCOL_VERSIONS]

function answerAndLeave (answer: PostAnswer, response: JsonRpcResponse | undefined, leave: () => void): void {
  try {
    answer.finish(response)
  } finally {
    leave()
  }
}

/**
 * `/mcp` per the Streamable HTTP transport. Stateless by default: every POST stands alone, and GET and DELETE
 * get 405. With `streamable.sessions` on, the stateful handlers (streamable-stateful.ts) take every message
 * once its headers and body have been checked.
 */
export async function streamableHttpRoutes (app: FastifyInstance, { leg }: { leg: LegContext }): Promise<void> {
  const { dispatcher, lifecycle, config, loggers, telemetry } = leg
  const { maxBufferedBytes, keepAliveMs } = config.streamable
  const postCut = telemetry === undefined ? undefined : () => { telemetry.slowReader('post') }

  // Clients repeat these headers on every request: each check runs once per distinct value (see rememberLast).
  const knownVersion = rememberLast((version) => version === undefined || version === MODERN_PROTOCOL_VERSION || isSupportedLegacyVersion(version))
  const acceptsBoth = rememberLast(acceptsJsonAndEventStream)
  const sendsJson = rememberLast(isJsonContentType)

  function checkProtocolVersion (request: FastifyRequest): void {
    const version = request.headers['mcp-protocol-version']
    if (!knownVersion(version === undefined ? undefined : String(version))) {
      throw refusals.unsupportedVersion(version, SUPPORTED_VERSIONS)
    }
  }

  function checkHeaders (request: FastifyRequest): void {
    if (!acceptsBoth(request.headers.accept)) {
      throw refusals.notAcceptablePost()
    }
    if (!sendsJson(request.headers['content-type'])) {
      throw refusals.unsupportedMediaType()
    }
  }

  const statelessCalls = new StatelessCalls()
  const modern = createModernPostHandler(leg, statelessCalls)
  lifecycle.onEndStreams(modern.closeListens)
  const stateful = config.streamable.sessions ? createStatefulHandlers(app, leg, checkProtocolVersion) : undefined

  /**
   * Not an async function: a stateless request whose tool answers synchronously is sent with no promise at all
   * (Fastify catches what a synchronous handler throws just as it does a rejection).
   */
  function postMcp (request: FastifyRequest, reply: FastifyReply): Promise<unknown> | undefined {
    checkHeaders(request)
    const classified = classifyMessage(request.body)
    if (classified.kind === 'invalid') {
      throw refusals.invalidMessage(classified.reason, classified.id)
    }
    if (classified.kind === 'request' && isModernPost(request, classified.message)) {
      refuseWhileDraining(lifecycle)
      return modern.post(request, reply, classified.message)
    }
    checkProtocolVersion(request)
    // While draining, new work is refused; a client's answers and cancellations still help calls in flight end.
    if (classified.kind === 'request') refuseWhileDraining(lifecycle)
    if (stateful !== undefined) return stateful.post(request, reply, classified)

    const answer = new PostAnswer(reply, maxBufferedBytes, keepAliveMs, postCut)
    const env = new HttpRequestEnv(request, reply, answer.notify, undefined, loggers, statelessCalls)
    if (classified.kind !== 'request') {
      if (classified.kind === 'notification') dispatcher.handleNotification(classified.message, env)
      else dispatcher.handleResponse(classified.message, env)
      reply.code(202).send()
      return undefined
    }
    const leave = lifecycle.enter()
    const response = dispatcher.handleRequest(classified.message, env)
    if (!(response instanceof Promise)) {
      answerAndLeave(answer, response, leave)
      return undefined
    }
    return response.then((settled) => { answerAndLeave(answer, settled, leave) })
  }

  async function methodNotAllowed (): Promise<never> {
    throw refusals.methodNotAllowed()
  }

  if (stateful === undefined) {
    app.post('/mcp', postMcp)
    app.get('/mcp', methodNotAllowed)
    app.delete('/mcp', methodNotAllowed)
    return
  }
  app.addHook('onRequest', exposeSessionHeader)
  app.post('/mcp', postMcp)
  app.get('/mcp', STREAM_ROUTE, stateful.openStream)
  app.delete('/mcp', stateful.endSession)
}
