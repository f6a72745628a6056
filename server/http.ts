import Fastify, { type FastifyInstance } from 'fastify'
import mcpPlugin, { redactUrl, requestLogSerializer, type AnyTool, type AuthOption } from '../plugin/index.js'
import { sendEarlyRefusal } from '../plugin/transports/http/lingering-close.js'
import type { OAuthOptions } from '../plugin/auth/oauth/oauth-options.js'
import { generateKey } from './generate-key.js'
import { answerClientError, createConnectionLimits, type ConnectionLimits } from './connection-limits.js'
import { ConfigError, isLoopback, type ServerConfig } from './config.js'
import { startupBanner } from './banner.js'
import { createBuiltinTools } from './builtin-tools.js'
import { loadTools } from './load-tools.js'
import { schemaCompilersOnFirstUse } from './schema-compilers.js'
import { oauthFromSettings } from './oauth-settings.js'
import type { StopTracing } from './otlp-tracing.js'
import type { Registry } from 'prom-client'

/** Decides the auth option, or explains why the server must not start. */
function chooseAuth (config: ServerConfig, oauth: OAuthOptions | undefined): { auth: AuthOption, generatedToken?: string } | { refusal: string } {
  if (config.noAuth) return { auth: false }
  if (oauth !== undefined) return { auth: config.tokens.length > 0 ? { tokens: config.tokens, oauth } : { oauth } }
  if (config.tokens.length > 0) return { auth: { tokens: config.tokens } }
  if (isLoopback(config.host)) {
    const token = generateKey()
    return { auth: { tokens: [{ token, id: 'generated' }] }, generatedToken: token }
  }
  return {
    refusal: `Refusing to serve ${config.host} without a token: anyone who can reach it could call your tools.\n` +
      'Make one with `node server generate-key` and start with MCP_TOKEN=<key> (or MCP_TOKEN_FILE),\n' +
      'or pass --no-auth if something in front of this server does the auth.\n'
  }
}

function authMode (auth: AuthOption): string {
  if (auth === false) return 'off'
  if (auth.oauth === undefined) return 'bearer'
  return auth.tokens === undefined ? 'oauth' : 'bearer+oauth'
}

export async function startHttpServer (config: ServerConfig): Promise<void> {
  const oauth = await oauthFromSettings(config)
  if (config.noAuth && oauth !== undefined) {
    throw new ConfigError('--no-auth contradicts MCP_OAUTH_ISSUER: unset the OAuth variables, or drop --no-auth to require tokens')
  }
  const chosen = chooseAuth(config, oauth)
  if ('refusal' in chosen) {
    process.stderr.write(chosen.refusal)
    process.exitCode = 1
    return
  }
  // Before the plugin registers: it makes spans when it finds a tracer provider then. Loaded only when configured.
  let stopTracing: StopTracing | undefined
  if (config.otlpEndpoint !== undefined || config.otlpTracesEndpoint !== undefined) {
    stopTracing = await (await import('./otlp-tracing.js')).startOtlpTracing()
  }
  const connections = createConnectionLimits(config, () => app.log)
  const app: FastifyInstance = Fastify({
    // A client may put its token in the query string: no log line shows a query string but the SSE sessionId.
    logger: { level: config.logLevel, redact: ['req.headers.authorization', 'req.headers.cookie'], serializers: { req: requestLogSerializer } },
    forceCloseConnections: 'idle',
    schemaController: { compilersFactory: schemaCompilersOnFirstUse },
    // Request, headers and keep-alive timeouts, and connection caps per client address and in total.
    serverFactory: connections.serverFactory,
    clientErrorHandler: (error, socket) => { answerClientError(error, socket, config) }
  })
  // Fastify's own not-found handler logs and echoes the URL with its query string.
  app.setNotFoundHandler(function notFound (request, reply) {
    const route = `${request.method}:${redactUrl(request.url)}`
    request.log.info(`Route ${route} not found`)
    sendEarlyRefusal(request, reply, () => { void reply.code(404).send({ error: 'Not Found', message: `Route ${route} not found`, statusCode: 404 }) })
  })
  const loaded = config.toolsModule !== undefined ? await loadTools(config.toolsModule) : undefined
  const tools: AnyTool[] = loaded?.tools ?? createBuiltinTools(() => ({ ...app.mcp.status() }))
  await app.register(mcpPlugin, {
    ...config.options,
    auth: chosen.auth,
    tools,
    resources: loaded?.resources,
    prompts: loaded?.prompts,
    telemetry: { ...config.options.telemetry, metrics: config.metricsPort !== undefined }
  })
  if (stopTracing !== undefined) app.addHook('onClose', async function flushSpans () { await stopTracing?.() })

  if (!isLoopback(config.host)) {
    app.log.warn({ host: config.host }, 'Listening beyond loopback: make sure a firewall or load balancer stands in front')
  }
  if (config.noAuth) app.log.warn('Auth is off (--no-auth): every caller that can reach this server may call its tools')

  installSignalHandlers(app, config.shutdownGraceMs, connections)
  const address = await listen(app, config)
  if (config.metricsPort !== undefined && app.mcp.metrics !== undefined) {
    const { collectDefaultMetrics } = await import('prom-client')
    // Process series (CPU, memory, event loop lag) beside the MCP ones, on node server's listener only.
    collectDefaultMetrics({ register: app.mcp.metrics as unknown as Registry })
    const { listenForMetrics } = await import('./metrics-listener.js')
    await listenForMetrics(app.mcp.metrics, config.metricsHost, config.metricsPort, app.log)
  }
  if (chosen.generatedToken !== undefined) {
    const port = (app.server.address() as { port: number }).port
    const host = config.host.includes(':') && !config.host.startsWith('[') ? `[${config.host}]` : config.host
    process.stderr.write(startupBanner(`http://${host}:${port}`, chosen.generatedToken, config.options.routes.sse))
  }
  app.log.info({ address, sse: config.options.routes.sse, stateful: config.options.streamable.sessions, auth: authMode(chosen.auth) }, 'MCP server listening')
}

/** Listens, or explains in one line why it cannot (a busy port, an address this machine does not have). */
async function listen (app: FastifyInstance, config: ServerConfig): Promise<string> {
  try {
    return await app.listen({ host: config.host, port: config.port })
  } catch (error) {
    await app.close()
    const code = (error as { code?: string }).code
    if (code === 'EADDRINUSE') throw new ConfigError(`Cannot listen on ${config.host}:${config.port}: the port is in use; pick another with --port / PORT`)
    if (code === 'EACCES') throw new ConfigError(`Cannot listen on ${config.host}:${config.port}: permission denied; ports below 1024 need privileges, pick another with --port / PORT`)
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new ConfigError(`Cannot listen on ${config.host}: this machine has no such address; check --host / HOST`)
    throw error
  }
}

/** Time allowed after the drain grace for closing connections before the process gives up and exits. */
const CLOSE_ALLOWANCE_MS = 2_000
/** After the drain, how long connections left open (no request on them) may stay before they are cut. */
const LINGER_MS = 500

/**
 * SIGTERM / SIGINT: keep listening while draining (so /health answers 503 and new MCP requests get 503 at once),
 * let requests in flight finish for up to `graceMs`, cut whatever is left, close, exit 0. A second signal exits 1.
 */
function installSignalHandlers (app: FastifyInstance, graceMs: number, connections: ConnectionLimits): void {
  let stopping = false
  async function shutdown (signal: NodeJS.Signals): Promise<void> {
    if (stopping) {
      app.log.warn({ signal }, 'Second signal: exiting now')
      process.exit(1)
    }
    stopping = true
    const deadline = setTimeout(() => {
      app.log.error({ graceMs }, 'Shutdown did not finish in time: exiting')
      process.exit(1)
    }, graceMs + CLOSE_ALLOWANCE_MS)
    deadline.unref()
    app.log.info({ signal, graceMs }, 'Draining: /health now answers 503')
    const drained = app.mcp.drain(graceMs)
    // Connections with no call in flight (idle, or still sending a request that would be refused) go at once.
    const cut = connections.closeConnectionsWithoutCalls()
    if (cut > 0) app.log.info({ connections: cut }, 'Closed the connections that held no call')
    await drained
    const stuck = app.mcp.status().inFlight > 0
    // And those opened during the drain: a slow body started then must not hold close() open past the deadline.
    connections.closeConnectionsWithoutCalls()
    const closing = app.close()
    // Requests still running after the grace period would hold close() open: cut their connections. So would a
    // connection that never carried a request (fetch keeps a spare one after a client aborts a stream; browsers and
    // load balancers open some ahead): once the ended streams had a moment to flush, whatever is left is cut.
    if (stuck) app.server.closeAllConnections()
    else setTimeout(() => { app.server.closeAllConnections() }, LINGER_MS).unref()
    await closing
    app.log.info('Stopped')
    // A tool may still hold a timer or a socket of its own; the server is closed, so leave now.
    process.exit(0)
  }
  process.on('SIGTERM', (signal) => { void shutdown(signal) })
  process.on('SIGINT', (signal) => { void shutdown(signal) })
}
