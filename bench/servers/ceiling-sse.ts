/**
 * The floor for M2 and M4: a hand-made legacy SSE server in bare Fastify. `GET /sse` takes the response over,
 * sends the `endpoint` event and keeps the stream in a Map; `POST /messages?sessionId=` answers 202 and writes
 * the JSON-RPC result on the stream. No auth, no keep-alive timer, no idle sweeper, no per-session state
 * beyond the Map entry. Also serves the bare `POST /mcp` route so the same child can take load.
 */
import { randomUUID } from 'node:crypto'
import type { ServerResponse } from 'node:http'
import Fastify from 'fastify'
import { addResult, announce, serveControl } from './common.js'

interface Call { id?: unknown, params?: { arguments?: { a?: number, b?: number } } }

const streams = new Map<string, ServerResponse>()
const app = Fastify({ logger: false })

app.get('/sse', (_request, reply) => {
  reply.hijack()
  const res = reply.raw
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache, no-transform' })
  const id = randomUUID()
  streams.set(id, res)
  res.once('close', () => { streams.delete(id) })
  res.write(`event: endpoint\ndata: /messages?sessionId=${id}\n\n`)
})

app.post('/messages', async (request, reply) => {
  const res = streams.get((request.query as { sessionId?: string }).sessionId ?? '')
  if (res === undefined) return await reply.code(404).send({ jsonrpc: '2.0', id: null, error: { code: -32000, message: 'Session not found' } })
  const { id, params } = request.body as Call
  res.write(`event: message\ndata: ${JSON.stringify(addResult(id, params?.arguments?.a ?? 0, params?.arguments?.b ?? 0))}\n\n`)
  return await reply.code(202).send()
})

app.post('/mcp', async (request) => {
  const { id, params } = request.body as Call
  return addResult(id, params?.arguments?.a ?? 0, params?.arguments?.b ?? 0)
})

app.addHook('preClose', async () => { for (const res of streams.values()) res.end() })
const address = await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) })
serveControl(() => streams.size, async () => { await app.close() })
announce(address)
