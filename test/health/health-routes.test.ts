import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startApp } from '../helpers/app.js'
import { post, rpc } from '../helpers/raw-http.js'
import { AUTH_HEADER } from '../helpers/app.js'

test('GET /health reports ok with the server info and no auth', async (t) => {
  const { baseUrl } = await startApp(t, { serverInfo: { name: 'billing-mcp', version: '2.3.4' } }, '/prefixed')
  const response = await fetch(`${baseUrl}/health`)
  assert.equal(response.status, 200)
  const body = await response.json() as Record<string, any>
  assert.equal(body.status, 'ok')
  assert.deepEqual(body.server, { name: 'billing-mcp', version: '2.3.4' })
  assert.deepEqual(body.transports, { streamableHttp: true, sse: true })
  assert.equal(body.sessions.sse, 0)
})

test('while draining, /health answers 503 with Retry-After and MCP requests get 503', async (t) => {
  const { app, baseUrl } = await startApp(t)
  await app.mcp.drain(1000)
  const health = await fetch(`${baseUrl}/health`)
  assert.equal(health.status, 503)
  assert.equal(health.headers.get('retry-after'), '5')
  assert.equal((await health.json() as { status: string }).status, 'draining')
  const refused = await post(`${baseUrl}/mcp`, rpc('ping'), AUTH_HEADER)
  assert.equal(refused.status, 503)
  assert.match(refused.json.error.message, /shutting down/)
})

test('drain waits for a call in flight to finish before it resolves', async (t) => {
  const { app, baseUrl } = await startApp(t)
  const inFlight = post(`${baseUrl}/mcp`, rpc('tools/call', { name: 'slow', arguments: { ms: 150 } }), AUTH_HEADER)
  while (app.mcp.status().inFlight === 0) await new Promise((resolve) => setTimeout(resolve, 5))
  assert.equal(app.mcp.status().inFlight, 1)
  await app.mcp.drain(5000)
  assert.equal(app.mcp.status().inFlight, 0)
  const response = await inFlight
  assert.deepEqual(response.json.result.content, [{ type: 'text', text: 'waited 150 ms' }])
})
