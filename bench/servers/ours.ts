/**
 * The server under test: the plugin registered in a plain Fastify app (logger off, as in the ceiling), bearer
 * auth on, the bench tools, both transports. Run as a child of the bench; see common.ts for the control channel.
 * With BENCH_AUTH=jwt it accepts OAuth access tokens instead (JWTs verified against BENCH_JWKS), for M5.
 */
import Fastify from 'fastify'
import mcpPlugin, { type AuthOption } from '../../plugin/index.js'
import { benchTools } from '../fixtures/tools.js'
import { announce, BENCH_TOKEN, serveControl } from './common.js'
import { BENCH_AUDIENCE, BENCH_ISSUER, serveJwks } from './jwks-stub.js'

async function benchAuth (): Promise<AuthOption> {
  if (process.env.BENCH_AUTH !== 'jwt') return { tokens: [{ token: BENCH_TOKEN, id: 'bench' }] }
  const jwksUri = await serveJwks(process.env.BENCH_JWKS ?? '{"keys":[]}')
  return { oauth: { issuer: BENCH_ISSUER, resource: 'http://127.0.0.1/mcp', audience: BENCH_AUDIENCE, jwksUri } }
}

const app = Fastify({ logger: false })
await app.register(mcpPlugin, {
  auth: await benchAuth(),
  tools: benchTools,
  // Above the default of 50 so that churn batches never wait for the previous batch's closes to land.
  sse: { maxSessions: Number(process.env.BENCH_SSE_MAX_SESSIONS ?? 200) }
})
const address = await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) })
serveControl(() => app.mcp.status().sessions.sse, async () => {
  await app.mcp.drain(0)
  await app.close()
})
announce(address)
