/**
 * The ceiling for M1 and M3: bare Fastify, one `POST /mcp` route that answers `tools/call` with the same JSON-RPC
 * result bytes our server sends (the arithmetic included; a 2026-07-28 request gets that revision's result), and
 * nothing else: no auth check, no header checks, no tool layer. The Authorization header is sent to it all the same
 * and ignored. Logger off, unless BENCH_LOG_LEVEL names a level: then Fastify logs its own two request lines at that
 * level to stdout, the ceiling for `node server` as shipped.
 */
import Fastify from 'fastify'
import { addResult, announce, modernAddResult, serveControl } from './common.js'

interface Call { id?: unknown, params?: { name?: string, arguments?: { a?: number, b?: number }, _meta?: Record<string, unknown> } }

const startedAt = Date.now()
const level = process.env.BENCH_LOG_LEVEL
const app = Fastify({ logger: level === undefined || level === '' ? false : { level } })
app.post('/mcp', async (request) => {
  const { id, params } = request.body as Call
  if (params?.name === 'server_status') {
    const status = { status: 'ok', uptimeSeconds: Math.round((Date.now() - startedAt) / 1000) }
    return { jsonrpc: '2.0', id, result: { content: [{ type: 'text', text: JSON.stringify(status) }], structuredContent: status } }
  }
  const a = params?.arguments?.a ?? 0
  const b = params?.arguments?.b ?? 0
  return params?._meta?.['io.modelcontextprotocol/protocolVersion'] === undefined ? addResult(id, a, b) : modernAddResult(id, a, b)
})
const address = await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) })
serveControl(() => 0, async () => { await app.close() })
announce(address)
