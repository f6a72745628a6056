import type { TestContext } from 'node:test'
import Fastify, { type FastifyInstance } from 'fastify'
import mcpPlugin, { type McpPluginOptions } from '../../plugin/index.js'
import { fixtureTools } from './fixture-tools.js'

export const TOKEN = 'test-token-alpha'
export const SECOND_TOKEN = 'test-token-beta'
export const AUTH_HEADER = { authorization: `Bearer ${TOKEN}` }

export interface RunningApp {
  app: FastifyInstance
  /** `http://127.0.0.1:<port><prefix>` */
  baseUrl: string
}

/** The plugin in a plain Fastify app on a loopback port; closed when the test ends. */
export async function startApp (
  t: TestContext,
  options: Partial<McpPluginOptions> = {},
  prefix = ''
): Promise<RunningApp> {
  const app = Fastify({ logger: false })
  await app.register(mcpPlugin, { auth: { tokens: [TOKEN] }, tools: fixtureTools, ...options, prefix } as McpPluginOptions)
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.after(async () => { await app.close() })
  const { port } = app.server.address() as { port: number }
  return { app, baseUrl: `http://127.0.0.1:${port}${prefix}` }
}
