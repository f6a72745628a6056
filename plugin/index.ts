import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyPluginOptions } from 'fastify'
import { createDispatcher, type Dispatcher } from './protocol/dispatcher.js'
import { resolveOptions, type McpPluginOptions } from './options.js'
import { createLifecycle } from './lifecycle.js'
import { createAccessChecks } from './auth/access-checks.js'
import { createRebindingGuard } from './guards/dns-rebinding.js'
import { healthRoutes } from './health/health-routes.js'
import { createMemorySessionStore } from './sessions/memory-session-store.js'
import { createIdentityCap } from './sessions/identity-cap.js'
import { streamableHttpRoutes } from './transports/streamable-http.js'
import { legacySseRoutes } from './transports/legacy-sse.js'
import { jsonRpcErrorHandler } from './transports/json-rpc-error-handler.js'
import type { LegContext } from './transports/leg-context.js'
import type { SseSession } from './transports/sse-session.js'
import type { StreamableSession } from './transports/streamable-session.js'
import type { McpStatus } from './status.js'

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
  /** Tells every connected client that subscribed that a list changed; returns how many were told. */
  notifyListChanged: (kind: 'tools' | 'prompts' | 'resources') => number
  /** Tells every client subscribed to `uri` that the resource changed; returns how many were told. */
  notifyResourceUpdated: (uri: string) => number
}

declare module 'fastify' {
  interface FastifyInstance {
    mcp: McpHost
  }
}

const DEFAULT_DRAIN_GRACE_MS = 10_000

async function mcpPlugin (app: FastifyInstance, options: McpPluginOptions & FastifyPluginOptions): Promise<void> {
  const { config, auth, tools, resources, prompts } = resolveOptions(options)
  // fastify-plugin leaves the register prefix to us: the routes are registered in children that take it.
  const prefix: string | undefined = options.prefix
  const startedAt = Date.now()
  const dispatcher = createDispatcher({
    info: config.serverInfo, instructions: config.instructions, tools, resources, prompts, toolTimeoutMs: config.toolTimeoutMs,
    requestStateSecret: config.requestStateSecret
  })
  const lifecycle = createLifecycle()
  const sseSessions = config.routes.sse
    ? createMemorySessionStore<SseSession>({
      maxSessions: config.sse.maxSessions,
      idleTimeoutMs: config.sse.idleTimeoutMs,
      onPrune: (session) => { app.log.info({ sessionId: session.id }, 'SSE session pruned after idle timeout') }
    })
    : undefined
  const streamableSessions = config.routes.streamableHttp && config.streamable.sessions
    ? createMemorySessionStore<StreamableSession>({
      maxSessions: config.streamable.maxSessions,
      idleTimeoutMs: config.streamable.idleTimeoutMs,
      onPrune: (session) => { app.log.info({ sessionId: session.id }, 'Streamable HTTP session ended after idle timeout') }
    })
    : undefined
  const identityCap = createIdentityCap(config.maxSessionsPerIdentity, [sseSessions, streamableSessions])
  const leg: LegContext = { dispatcher, lifecycle, config, sseSessions, streamableSessions, identityCap }

  function status (): McpStatus {
    return {
      status: lifecycle.draining ? 'draining' : 'ok',
      server: config.serverInfo,
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      transports: { streamableHttp: config.routes.streamableHttp, sse: config.routes.sse },
      sessions: streamableSessions === undefined
        ? { sse: sseSessions?.size ?? 0 }
        : { sse: sseSessions?.size ?? 0, streamableHttp: streamableSessions.size },
      inFlight: lifecycle.inFlight
    }
  }

  async function drain (graceMs = DEFAULT_DRAIN_GRACE_MS): Promise<void> {
    lifecycle.beginDrain()
    const idle = await lifecycle.whenIdle(graceMs)
    if (!idle) app.log.warn({ inFlight: lifecycle.inFlight, graceMs }, 'Drain grace period ended with requests still in flight')
    sseSessions?.closeAll('shutdown')
    streamableSessions?.closeAll('shutdown')
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
      : () => ({ sessions: sseSessions.size, maxSessions: sseSessions.maxSessions, idleTimeoutMs: sseSessions.idleTimeoutMs })
    await app.register(healthRoutes, { prefix, status, sseStatus })
  }

  const access = await createAccessChecks(app, { auth, tools, resources, prompts, prefix, config })
  const bearerAuth = access.bearerAuth
  await app.register(async function mcpRoutes (routes) {
    routes.setErrorHandler(jsonRpcErrorHandler)
    const passesGuard = createRebindingGuard(app, config)
    // One hook, guard then credentials, before the body is read: a refused caller costs no parsing.
    routes.addHook('onRequest', function mcpAccess (request, reply, done) {
      if (!passesGuard(request, reply)) return
      if (bearerAuth === undefined) done()
      else bearerAuth(request, reply, done)
    })
    // Only when a tool, resource or prompt declares scopes: otherwise no hook at all.
    if (access.scopeGuard !== undefined) {
      routes.addHook('onRequest', access.scopeGuard.onRequest)
      routes.addHook('preHandler', access.scopeGuard.preHandler)
    }
    const bodyLimit = config.bodyLimit
    if (bodyLimit !== undefined) routes.addHook('onRoute', (route) => { route.bodyLimit ??= bodyLimit })
    if (config.routes.streamableHttp) await routes.register(streamableHttpRoutes, { leg })
    if (config.routes.sse) await routes.register(legacySseRoutes, { leg })
  }, { prefix })

  // Open streams would keep app.close() waiting: end them before the server stops accepting.
  app.addHook('preClose', async function endStreams () {
    sseSessions?.closeAll('shutdown')
    streamableSessions?.closeAll('shutdown')
  })
}

const plugin = fp(mcpPlugin, { name: 'fastify-mcp-host', fastify: '5.x' })

export default plugin
export { plugin as mcpPlugin }
export * from './core.js'
export type { McpPluginOptions, AuthOption, VerifyToken, NamedToken, McpConfig } from './options.js'
export type { McpStatus } from './status.js'
