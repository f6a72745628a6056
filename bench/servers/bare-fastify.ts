/**
 * The ceiling for M1 and M3: bare Fastify, logger off, one `POST /mcp` route that answers `tools/call` with the
 * same JSON-RPC result bytes our server sends (the arithmetic included), and nothing else: no auth check, no
 * header checks, no tool layer. The Authorization header is sent to it all the same and ignored.
 */
import Fastify from 'fastify'
import { addResult, announce, serveControl } from './common.js'

interface Call { id?: unknown, params?: { name?: string, arguments?: { a?: number, b?: number } } }

const startedAt = Date.now()
const app = Fastify({ logger: false })
app.post('/mcp', async (request) => {
  const { id, params } = request.body as Call
  if (params?.name === 'server_status') {
    const status = { status: 'ok', uptimeSeconds: Math.round((Date.now() - startedAt) / 1000) }
    return { jsonrpc: '2.0', id, result: { content: [{ type: 'text', text: JSON.stringify(status) }], structuredContent: status } }
  }
  return addResult(id, params?.arguments?.a ?? 0, params?.arguments?.b ?? 0)
})
const address = await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) })
serveControl(() => 0, async () => { await app.close() })
announce(address)
