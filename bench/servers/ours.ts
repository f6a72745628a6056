/**
 * The server under test: the plugin registered in a plain Fastify app (logger off, as in the ceiling), bearer
 * auth on, the bench tools, both transports. Run as a child of the bench; see common.ts for the control channel.
 * With BENCH_AUTH=jwt it accepts OAuth access tokens instead (JWTs verified against BENCH_JWKS), for M5.
 * M6 sets BENCH_REDIS_URL for cluster mode, and BENCH_REQUEST_STATE_SECRET on both sides of its on/off comparison.
 * M1's observability rows: BENCH_TRACING=memory registers a tracer provider with an in-memory exporter (emptied
 * every second) before the plugin, BENCH_METRICS=1 turns on the Prometheus metrics.
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

if (process.env.BENCH_TRACING === 'memory') {
  const { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor } = await import('@opentelemetry/sdk-trace-node')
  const exporter = new InMemorySpanExporter()
  new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).register()
  setInterval(() => { exporter.reset() }, 1000).unref()
}

const app = Fastify({ logger: false })
await app.register(mcpPlugin, {
  auth: await benchAuth(),
  tools: benchTools,
  // Above the default of 50 so that churn batches never wait for the previous batch's closes to land.
  sse: { maxSessions: Number(process.env.BENCH_SSE_MAX_SESSIONS ?? 200) },
  // One token opens every session of the bench (up to 500 at once in M2): the per-caller cap, 25 by default, is
  // still checked on every open but must not refuse them.
  maxSessionsPerIdentity: 1_000_000,
  ...(process.env.BENCH_REQUEST_STATE_SECRET === undefined ? {} : { requestStateSecret: process.env.BENCH_REQUEST_STATE_SECRET }),
  ...(process.env.BENCH_REDIS_URL === undefined ? {} : { cluster: { redisUrl: process.env.BENCH_REDIS_URL } }),
  telemetry: { metrics: process.env.BENCH_METRICS === '1' }
})
const address = await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) })
serveControl(() => app.mcp.status().sessions.sse, async () => {
  await app.mcp.drain(0)
  await app.close()
})
announce(address)
