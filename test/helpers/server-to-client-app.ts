import type { TestContext } from 'node:test'
import Fastify from 'fastify'
import mcpPlugin, { type McpPluginOptions } from '../../plugin/index.js'
import { TOKEN, type RunningApp } from './app.js'
import { connectScripted, httpTransport, sseTransport, type ClientAnswers, type ScriptedClient } from './scripted-client.js'
import { serverToClientResources, serverToClientTools } from './server-to-client-tools.js'

/**
 * The plugin serving the server-to-client tools and resources (stateless `/mcp` unless `streamable.sessions`);
 * closed when the test ends. Closing cuts every connection: after a client aborts a fetch, Node's fetch keeps a
 * spare connection that never sends a request, which an idle-only close would wait a minute for.
 */
export async function startServerToClientApp (t: TestContext, options: Partial<McpPluginOptions> = {}): Promise<RunningApp> {
  const app = Fastify({ logger: false, forceCloseConnections: true })
  await app.register(mcpPlugin, {
    auth: { tokens: [TOKEN] },
    tools: serverToClientTools,
    resources: serverToClientResources,
    ...options
  } as McpPluginOptions)
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.after(async () => { await app.close() })
  return { app, baseUrl: `http://127.0.0.1:${(app.server.address() as { port: number }).port}` }
}

/** A scripted SDK 1.x client on `/mcp` of the app. */
export async function connectMcp (t: TestContext, running: RunningApp, answers?: ClientAnswers, token = TOKEN): Promise<ScriptedClient> {
  return await connectScripted(t, httpTransport(`${running.baseUrl}/mcp`, token), answers)
}

/** A scripted SDK 1.x client on `/sse` of the app. */
export async function connectSseClient (t: TestContext, running: RunningApp, answers?: ClientAnswers, token = TOKEN): Promise<ScriptedClient> {
  return await connectScripted(t, sseTransport(`${running.baseUrl}/sse`, token), answers)
}
