import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyPluginAsync, FastifyPluginOptions } from 'fastify'
import { createDispatcher, type Dispatcher } from './dispatch/dispatcher.js'
import { resolveOptions, type McpPluginOptions } from './options.js'
import { createLifecycle } from './lifecycle.js'
import { createBearerAuth } from './auth/bearer-auth.js'
import { createRebindingGuard } from './guards/dns-rebinding.js'
import { healthRoutes } from './health/health-routes.js'
import { streamableHttpRoutes } from './transports/streamable-http/routes.js'
import { legacySseRoutes } from './transports/legacy-sse/routes.js'
import { jsonRpcErrorHandler } from './transports/http/json-rpc-error-handler.js'
import type { LegContext } from './transports/leg-context.js'
import { createSessionBackends } from './session-backends.js'
import { joinCluster } from './cluster/join-cluster.js'
import type { McpStatus } from './status.js'
import type { AuthIdentity } from './protocol/identity.js'

/** What the plugin exposes on the Fastify instance as `fastify.mcp`. */
export interface McpHost {
  readonly dispatcher: Dispatcher
  /** A snapshot for health checks and status tools. */
  status: () => McpStatus
  /**
   * Starts draining: /health answers 503 and new MCP requests are refused at once; resolves when the requests in
   * flight have finished or `graceMs` has passed, after ending every open stream. Call it before `app.close()`.
   */
  drain: (graceMs?: number) => Promise<void>
  /**
   * Tells every connected client that a list changed; resolves with how many were told (in a cluster: the clients
   * of this replica's streams and every stateful session; other replicas tell their own streams' clients).
   */
  notifyListChanged: (kind: 'tools' | 'prompts' | 'resources') => Promise<number>
  /** Tells every client subscribed to `uri` that the resource changed; resolves with how many were told (as above). */
  notifyResourceUpdated: (uri: string) => Promise<number>
}

declare module 'fastify' {
  interface FastifyInstance {
    mcp: McpHost
  }
  interface FastifyRequest {
    /** The caller, once the MCP bearer auth has accepted the request; null when auth is off. */
    mcpAuth: AuthIdentity | null
  }
}

const DEFAULT_DRAIN_GRACE_MS = 10_000

async function mcpPlugin (app: FastifyInstance, options: McpPluginOptions): Promise<void> {
  const { config, redis, auth, tools, resources, prompts } = resolveOptions(options)
  // fastify-plugin leaves the register prefix to us: the routes are registered in children that take it.
  const prefix = (options as FastifyPluginOptions).prefix as string | undefined
  const startedAt = Date.now()
  const backends = await createSessionBackends(config, redis, app.log)
  const { broker, sseSessions, statefulSessions } = backends
  const dispatcher = createDispatcher({
    info: config.serverInfo, instructions: config.instructions, tools, resources, prompts, toolTimeoutMs: config.toolTimeoutMs,
    requestStateSecret: config.requestStateSecret,
    origin: broker.replica,
    forwardAnswer: (origin, response, answerer) => {
      broker.notify(origin, { kind: 'client-answer', response, answerer }).catch((error: unknown) => {
        app.log.warn({ err: error }, 'A client\'s answer could not be forwarded to the replica that asked for it')
      })
    }
  })
  if (backends.cluster !== undefined) joinCluster(dispatcher, broker, app.log)
  const lifecycle = createLifecycle()
  if (sseSessions !== undefined) lifecycle.onEndStreams(() => { sseSessions.closeAll('shutdown') })
  const leg: LegContext = {
    dispatcher,
    lifecycle,
    config,
    sseSessions,
    sseDirectory: backends.sseDirectory,
    statefulSessions,
    identityCap: backends.identityCap,
    broker,
    livenessCheckMs: Math.max(Math.floor(config.cluster.livenessMs / 3), 100)
  }

  function status (): McpStatus {
    return {
      status: lifecycle.draining ? 'draining' : 'ok',
      server: config.serverInfo,
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      transports: { streamableHttp: config.routes.streamableHttp, sse: config.routes.sse },
      sessions: statefulSessions === undefined
        ? { sse: sseSessions?.size ?? 0 }
        : { sse: sseSessions?.size ?? 0, streamableHttp: statefulSessions.size },
      inFlight: lifecycle.inFlight,
      ...(backends.cluster === undefined
        ? {}
        : {
            cluster: {
              replica: broker.replica,
              redis: broker.connected ? 'up' : 'down',
              sessions: { sse: backends.sseDirectory?.size, streamableHttp: statefulSessions?.size }
            }
          })
    }
  }

  async function drain (graceMs = DEFAULT_DRAIN_GRACE_MS): Promise<void> {
    lifecycle.beginDrain()
    const idle = await lifecycle.whenIdle(graceMs)
    if (!idle) app.log.warn({ inFlight: lifecycle.inFlight, graceMs }, 'Drain grace period ended with requests still in flight')
    lifecycle.endStreams()
  }

  app.decorate('mcp', {
    dispatcher,
    status,
    drain,
    notifyListChanged: dispatcher.notifyListChanged,
    notifyResourceUpdated: dispatcher.notifyResourceUpdated
  })
  app.decorateRequest('mcpAuth', null)

  if (config.routes.health) {
    const sseStatus = sseSessions === undefined
      ? undefined
      : () => ({
          sessions: sseSessions.size,
          maxSessions: sseSessions.maxSessions,
          idleTimeoutMs: sseSessions.idleTimeoutMs,
          ...(backends.sseDirectory === undefined ? {} : { clusterSessions: backends.sseDirectory.size })
        })
    await app.register(healthRoutes, { prefix, status, sseStatus })
  }

  const bearerAuth = auth === false ? undefined : createBearerAuth(auth, config.authFailureLogLevel)
  await app.register(async function mcpRoutes (routes) {
    routes.setErrorHandler(jsonRpcErrorHandler)
    const passesGuard = createRebindingGuard(app, config)
    // One hook, guard then credentials, before the body is read: a refused caller costs no parsing.
    routes.addHook('onRequest', function mcpAccess (request, reply, done) {
      if (!passesGuard(request, reply)) return
      if (bearerAuth === undefined) done()
      else bearerAuth(request, reply, done)
    })
    const bodyLimit = config.bodyLimit
    if (bodyLimit !== undefined) routes.addHook('onRoute', (route) => { route.bodyLimit ??= bodyLimit })
    if (config.routes.streamableHttp) await routes.register(streamableHttpRoutes, { leg })
    if (config.routes.sse) await routes.register(legacySseRoutes, { leg })
  }, { prefix })

  // Open streams would keep app.close() waiting: end them before the server stops accepting.
  app.addHook('preClose', async function endStreams () {
    lifecycle.endStreams()
  })
  app.addHook('onClose', async function leaveCluster () { await backends.close() })
}

/** Typed with its own options, so that a misspelled option fails to compile in `app.register(mcpPlugin, { ... })`. */
const plugin: FastifyPluginAsync<McpPluginOptions> = fp(mcpPlugin, { name: 'fastify-mcp-host', fastify: '5.x' })

export default plugin
export { plugin as mcpPlugin }
export * from './core.js'
export type { McpPluginOptions, AuthOption, VerifyToken, NamedToken, McpConfig } from './options.js'
export type { McpStatus } from './status.js'
export { redactUrl, requestLogSerializer } from './transports/http/redact-url.js'
