import Fastify from 'fastify'
import mcpPlugin, { type AnyTool, type AuthOption } from '../plugin/index.js'
import { generateKey } from './generate-key.js'
import { isLoopback, type ServerConfig } from './config.js'
import { startupBanner } from './banner.js'
import { createBuiltinTools } from './builtin-tools.js'
import { loadTools } from './load-tools.js'

/** Decides the auth option, or explains why the server must not start. */
function chooseAuth (config: ServerConfig): { auth: AuthOption, generatedToken?: string } | { refusal: string } {
  if (config.noAuth) return { auth: false }
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

export async function startHttpServer (config: ServerConfig): Promise<void> {
  const chosen = chooseAuth(config)
  if ('refusal' in chosen) {
    process.stderr.write(chosen.refusal)
    process.exitCode = 1
    return
  }
  const app = Fastify({
    logger: { level: config.logLevel, redact: ['req.headers.authorization', 'req.headers.cookie'] },
    forceCloseConnections: 'idle'
  })
  const loaded = config.toolsModule !== undefined ? await loadTools(config.toolsModule) : undefined
  const tools: AnyTool[] = loaded?.tools ?? createBuiltinTools(() => ({ ...app.mcp.status() }))
  await app.register(mcpPlugin, {
    auth: chosen.auth,
    tools,
    resources: loaded?.resources,
    prompts: loaded?.prompts,
    routes: { sse: config.sse },
    sse: { maxSessions: config.sseMaxSessions, idleTimeoutMs: config.sseIdleTimeoutMs }
  })

  if (!isLoopback(config.host)) {
    app.log.warn({ host: config.host }, 'Listening beyond loopback: make sure a firewall or load balancer stands in front')
  }
  if (config.noAuth) app.log.warn('Auth is off (--no-auth): every caller that can reach this server may call its tools')

  let stopping = false
  async function shutdown (signal: string): Promise<void> {
    if (stopping) {
      app.log.warn({ signal }, 'Second signal: exiting now')
      process.exit(1)
    }
    stopping = true
    app.log.info({ signal, graceMs: config.shutdownGraceMs }, 'Draining: /health now answers 503')
    await app.mcp.drain(config.shutdownGraceMs)
    await app.close()
    app.log.info('Stopped')
  }
  process.on('SIGTERM', (signal) => { void shutdown(signal) })
  process.on('SIGINT', (signal) => { void shutdown(signal) })

  const address = await app.listen({ host: config.host, port: config.port })
  if (chosen.generatedToken !== undefined) {
    const port = (app.server.address() as { port: number }).port
    const host = config.host.includes(':') && !config.host.startsWith('[') ? `[${config.host}]` : config.host
    process.stderr.write(startupBanner(`http://${host}:${port}`, chosen.generatedToken, config.sse))
  }
  app.log.info({ address, sse: config.sse, auth: chosen.auth === false ? 'off' : 'bearer' }, 'MCP server listening')
}
