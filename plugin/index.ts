import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyPluginAsync, FastifyPluginOptions } from 'fastify'
import { createDispatcher } from './dispatch/dispatcher.js'
import { rememberDispatcher } from './host-internals.js'
import { resolveOptions, type McpPluginOptions } from './options.js'
import { createLifecycle } from './lifecycle.js'
import { createAccessChecks } from './auth/access-checks.js'
import { createRebindingGuard } from './guards/dns-rebinding.js'
import { healthRoutes } from './health/health-routes.js'
import { streamableHttpRoutes } from './transports/streamable-http/routes.js'
import { legacySseRoutes } from './transports/legacy-sse/routes.js'
import { createJsonRpcErrorHandler } from './transports/http/json-rpc-error-handler.js'
import { createRequestLoggers } from './transports/http/request-loggers.js'
import { createTelemetry } from './telemetry/create-telemetry.js'
import type { MetricsRegistry } from './telemetry/metrics/mcp-metrics.js'
import type { LegContext } from './transports/leg-context.js'
import { createSessionBackends } from './session-backends.js'
import { joinCluster } from './cluster/join-cluster.js'
import type { McpStatus } from './status.js'
import type { AuthIdentity } from './protocol/identity.js'
import type { RuntimeDefinitions } from './dispatch/runtime-definitions.js'
import { createRouteCollector } from './bridge/route-collector.js'
import { mcpBridgeOf } from './bridge/bridged-call.js'
import { checkForwardHeaders } from './bridge/header-rules.js'
import type { BridgedTool } from './bridge/bridge-setup.js'

/** What the plugin exposes on the Fastify instance as `fastify.mcp`: with the list changes of `RuntimeDefinitions`. */
export interface McpHost extends RuntimeDefinitions {
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
  /** The routes served as tools (marked `config.mcp`), once the app is ready; empty before. */
  bridgedTools: () => BridgedTool[]
  /**
   * With `telemetry.metrics`, the prom-client `Registry` of the MCP series, to serve (`await metrics.metrics()`,
   * `metrics.contentType`) or merge into the app's own (`Registry.merge([...])`); undefined when metrics are off.
   */
  readonly metrics: MetricsRegistry | undefined
}

declare module 'fastify' {
  interface FastifyInstance {
    mcp: McpHost
  }
  interface FastifyRequest {
    /**
     * On the MCP routes: the caller, once auth accepted the request; null when auth is off. Undefined on the host
     * application's own routes, which the plugin never decorates.
     */
    mcpAuth?: AuthIdentity | null
  }
}

const DEFAULT_DRAIN_GRACE_MS = 10_000

async function mcpPlugin (app: FastifyInstance, options: McpPluginOptions): Promise<void> {
  const { config, redis, auth, tools, resources, prompts } = resolveOptions(options)
  // fastify-plugin leaves the register prefix to us: the routes are registered in children that take it.
  const prefix = (options as FastifyPluginOptions).prefix as string | undefined
  const forwardHeaders = checkForwardHeaders(config.bridge.forwardHeaders)
  // The route bridge sees routes through onRoute, so only those registered after this point.
  const routesBefore = app.printRoutes() !== '(empty tree)'
  const routeCollector = createRouteCollector()
  app.addHook('onRoute', routeCollector.onRoute)
  const startedAt = Date.now()
  const backends = await createSessionBackends(config, redis, app.log)
  const { broker, sseSessions, statefulSessions } = backends
  const loggers = createRequestLoggers(app, config.telemetry.logCalls)
  const { telemetry, metrics } = await createTelemetry(config.telemetry, {
    callLog: loggers.quiet ? app.log : undefined,
    idLabel: loggers.idLabel,
    status: () => status(),
    knownTool: (name) => dispatcher.tools.has(name)
  })
  const dispatcher = createDispatcher({
    observer: telemetry?.observer,
    info: config.serverInfo,
    instructions: config.instructions,
    tools,
    resources,
    prompts,
    toolTimeoutMs: config.toolTimeoutMs,
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
    listenStreams: backends.listenStreams,
    identityCap: backends.identityCap,
    broker,
    livenessCheckMs: Math.max(Math.floor(config.cluster.livenessMs / 3), 100),
    loggers,
    telemetry
  }

  function status (): McpStatus {
    return {
      status: lifecycle.draining ? 'draining' : 'ok',
      server: config.serverInfo,
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      transports: { streamableHttp: config.routes.streamableHttp, sse: config.routes.sse },
      sessions: statefulSessions === undefined
        ? { sse: sseSessions?.size ?? 0, listen: backends.listenStreams.size }
        : { sse: sseSessions?.size ?? 0, streamableHttp: statefulSessions.size, listen: backends.listenStreams.size },
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

  let bridged: BridgedTool[] = []
  rememberDispatcher(app, dispatcher)
  app.decorate('mcp', {
    status,
    drain,
    notifyListChanged: dispatcher.notifyListChanged,
    notifyResourceUpdated: dispatcher.notifyResourceUpdated,
    addTool: dispatcher.addTool,
    removeTool: dispatcher.removeTool,
    addResource: dispatcher.addResource,
    removeResource: dispatcher.removeResource,
    addPrompt: dispatcher.addPrompt,
    removePrompt: dispatcher.removePrompt,
    bridgedTools: () => bridged.map((tool) => ({ ...tool })),
    metrics
  })
  app.decorateRequest('mcpBridge', { getter () { return mcpBridgeOf(this) } })

  // Marked routes become tools once every plugin has loaded; the bridge's code is loaded only if a route is marked.
  app.addHook('onReady', async function bridgeMarkedRoutes () {
    if (routesBefore) {
      app.log.info('Routes registered before fastify-mcp-host are not seen by its route bridge: a route among them marked config.mcp is not a tool. Register the plugin before your routes.')
    }
    if (routeCollector.routes.length === 0) return
    const { bridgeRoutes } = await import('./bridge/bridge-setup.js')
    bridged = bridgeRoutes({ app, routes: routeCollector.routes, forwardHeaders, dispatcher })
    app.log.info({ tools: bridged.map((tool) => tool.name) }, 'Routes marked config.mcp are served as MCP tools')
  })

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

  const access = await createAccessChecks(app, {
    auth,
    prefix,
    config,
    definitions: {
      current: dispatcher.definitions,
      onChange: (listener) => {
        dispatcher.addRelay(async (event) => {
          if (event.kind === 'list-changed') listener()
          return 0
        })
      }
    },
    telemetry,
    loggers
  })
  const bearerAuth = access.bearerAuth
  await app.register(async function mcpRoutes (routes) {
    // Set by the auth hook of these routes only: the host application's own requests carry no such property.
    routes.decorateRequest('mcpAuth', null)
    routes.setErrorHandler(createJsonRpcErrorHandler(telemetry))
    // Fastify's two request lines give way to one line per MCP message here (see request-loggers.ts).
    if (loggers.childLoggerFactory !== undefined) routes.setChildLoggerFactory(loggers.childLoggerFactory)
    const passesGuard = createRebindingGuard(app, config, telemetry)
    // One hook, guard then credentials, before the body is read: a refused caller costs no parsing.
    routes.addHook('onRequest', function mcpAccess (request, reply, done) {
      if (!passesGuard(request, reply)) return
      if (bearerAuth === undefined) done()
      else bearerAuth(request, reply, done)
    })
    // Only when callers can carry scopes (OAuth, a verify function): otherwise no hook at all.
    if (access.scopeGuard !== undefined) {
      routes.addHook('onRequest', access.scopeGuard.onRequest)
      routes.addHook('preHandler', access.scopeGuard.preHandler)
    }
    // Only when configured: otherwise the library is not loaded and the routes get no hook.
    if (config.rateLimit !== undefined) {
      const { createRateLimitHooks } = await import('./guards/rate-limit.js')
      const limits = await createRateLimitHooks(routes, config.rateLimit, backends.cluster?.counters, app.log)
      if (limits.onRequest !== undefined) routes.addHook('onRequest', limits.onRequest)
      if (limits.preHandler !== undefined) routes.addHook('preHandler', limits.preHandler)
    }
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
export type { McpPluginOptions, AuthOption, AuthMethods, VerifyToken, NamedToken, McpConfig } from './options.js'
export type { OAuthOptions } from './auth/oauth/oauth-options.js'
export type { OAuthIdentity } from './auth/oauth/oauth-identity.js'
export type { McpStatus } from './status.js'
export type { MetricsRegistry } from './telemetry/metrics/mcp-metrics.js'
export { redactUrl, requestLogSerializer } from './transports/http/redact-url.js'
export type { McpBridgeCall } from './bridge/bridged-call.js'
export type { McpRouteOptions } from './bridge/route-config.js'
export type { BridgedTool } from './bridge/bridge-setup.js'
