import type { TestContext } from 'node:test'
import Fastify, { type FastifyServerOptions } from 'fastify'
import mcpPlugin, { type McpPluginOptions } from '../../plugin/index.js'
import { TOKEN, type RunningApp } from './app.js'
import { fixtureTools } from './fixture-tools.js'

export interface LoggedApp extends RunningApp {
  /** Every log line the app wrote so far, parsed. */
  logs: Array<{ level: number, msg: string, [key: string]: unknown }>
}

/**
 * Like `startApp`, with the Fastify logger on (debug) and its lines kept for the test to read, and room for the
 * host's own Fastify options.
 */
export async function startLoggedApp (
  t: TestContext,
  options: Partial<McpPluginOptions> = {},
  fastifyOptions: FastifyServerOptions = {}
): Promise<LoggedApp> {
  const logs: LoggedApp['logs'] = []
  const stream = { write (line: string) { logs.push(JSON.parse(line)) } }
  const app = Fastify({ ...fastifyOptions, logger: { level: 'debug', stream } })
  await app.register(mcpPlugin, { auth: { tokens: [TOKEN] }, tools: fixtureTools, ...options } as McpPluginOptions)
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.after(async () => { await app.close() })
  const { port } = app.server.address() as { port: number }
  return { app, baseUrl: `http://127.0.0.1:${port}`, logs }
}
