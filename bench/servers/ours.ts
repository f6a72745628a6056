/**
 * The server under test: the plugin registered in a plain Fastify app (logger off, as in the ceiling), bearer
 * auth on, the bench tools, both transports. Run as a child of the bench; see common.ts for the control channel.
 * M5 sets BENCH_REDIS_URL for cluster mode, and BENCH_REQUEST_STATE_SECRET on both sides of its on/off comparison.
 */
import Fastify from 'fastify'
import mcpPlugin from '../../plugin/index.js'
import { benchTools } from '../fixtures/tools.js'
import { announce, BENCH_TOKEN, serveControl } from './common.js'

const app = Fastify({ logger: false })
await app.register(mcpPlugin, {
  auth: { tokens: [{ token: BENCH_TOKEN, id: 'bench' }] },
  tools: benchTools,
  // Above the default of 50 so that churn batches never wait for the previous batch's closes to land.
  sse: { maxSessions: Number(process.env.BENCH_SSE_MAX_SESSIONS ?? 200) },
  ...(process.env.BENCH_REQUEST_STATE_SECRET === undefined ? {} : { requestStateSecret: process.env.BENCH_REQUEST_STATE_SECRET }),
  ...(process.env.BENCH_REDIS_URL === undefined ? {} : { cluster: { redisUrl: process.env.BENCH_REDIS_URL } })
})
const address = await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) })
serveControl(() => app.mcp.status().sessions.sse, async () => {
  await app.mcp.drain(0)
  await app.close()
})
announce(address)
