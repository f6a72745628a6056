import { test } from 'node:test'
import assert from 'node:assert/strict'
import { get, request as httpRequest } from 'node:http'
import { spawnServer } from '../helpers/spawn-server.js'
import { post, request, rpc } from '../helpers/raw-http.js'
import { parseExposition, sampleValue } from '../helpers/prometheus-text.js'
import Fastify from 'fastify'
import mcpPlugin from '../../plugin/index.js'
import { startApp, AUTH_HEADER } from '../helpers/app.js'
import { TOKEN as SERVER_TOKEN, TOOLS_FIXTURE, waitFor } from '../server/support.js'
import { TOKEN } from '../helpers/app.js'
import { openSse, openStalledSse } from '../helpers/sse-client.js'
import { initializeSession } from '../helpers/stateful-http.js'
import type { MetricsRegistry } from '../../plugin/index.js'

const MODERN_META = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} }
const BEARER = { authorization: `Bearer ${SERVER_TOKEN}` }

/** Holds a legacy SSE stream open until the returned function is called. */
async function holdSse (baseUrl: string): Promise<() => void> {
  return await new Promise((resolve, reject) => {
    const outgoing = get(`${baseUrl}/sse`, { headers: { ...BEARER, accept: 'text/event-stream' }, agent: false }, (incoming) => {
      incoming.once('data', () => { resolve(() => { outgoing.destroy() }) })
    })
    outgoing.on('error', reject)
  })
}

test('node server serves the MCP series on a port of its own, and the values follow a scripted workload', { timeout: 60_000 }, async (t) => {
  const server = await spawnServer(t, ['--tools', TOOLS_FIXTURE], { MCP_TOKEN: SERVER_TOKEN, MCP_METRICS_PORT: '0', MCP_BODY_LIMIT: '4096' })
  const metricsUrl = await waitFor('the metrics listener', () => {
    const line = server.stdout().split('\n').find((candidate) => candidate.includes('"Metrics listening"'))
    return line === undefined ? undefined : (JSON.parse(line) as { address: string }).address
  })
  assert.match(metricsUrl, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/, 'loopback by default')
  assert.notEqual(new URL(metricsUrl).port, new URL(server.baseUrl).port)

  const mcp = `${server.baseUrl}/mcp`
  for (let i = 0; i < 3; i++) assert.equal((await post(mcp, rpc('tools/call', { name: 'add', arguments: { a: i, b: 1 } }), BEARER)).status, 200)
  await post(mcp, rpc('tools/call', { name: 'add', arguments: { a: 1, b: 2 }, _meta: MODERN_META }),
    { ...BEARER, 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'add' })
  await post(mcp, rpc('tools/call', { name: 'fail', arguments: {} }), BEARER)
  await post(mcp, rpc('tools/call', { name: 'no-such-tool-1', arguments: {} }), BEARER)
  await post(mcp, rpc('tools/call', { name: 'no-such-tool-2', arguments: {} }), BEARER)
  await post(mcp, rpc('made/up', {}), BEARER)
  assert.equal((await post(mcp, rpc('ping'))).status, 401)
  assert.equal((await post(mcp, rpc('ping', { pad: 'x'.repeat(8192) }), BEARER)).status, 413)
  const closeSse = await holdSse(server.baseUrl)
  t.after(closeSse)

  const scrape = await request(metricsUrl)
  assert.equal(scrape.status, 200)
  assert.match(String(scrape.headers.get('content-type')), /^text\/plain; version=0\.0\.4/)
  const families = parseExposition(scrape.text)
  const calls = (labels: Record<string, string>): number | undefined => sampleValue(families, 'mcp_server_operation_duration_seconds_count', labels)
  assert.equal(families.get('mcp_server_operation_duration_seconds')?.type, 'histogram')
  assert.equal(calls({ method: 'tools/call', tool: 'add', error_type: '' }), 4, 'both eras count')
  assert.equal(calls({ method: 'tools/call', tool: 'fail', error_type: 'tool_error' }), 1)
  assert.equal(calls({ method: 'tools/call', tool: '_OTHER', error_type: '-32602' }), 2, 'unknown tools share one series')
  assert.equal(calls({ method: '_OTHER', tool: '', error_type: '-32601' }), 1, 'unknown methods share one series')
  assert.doesNotMatch(scrape.text, /no-such-tool|made\/up/)
  assert.ok(!scrape.text.includes(SERVER_TOKEN), 'no token in any label')
  const buckets = families.get('mcp_server_operation_duration_seconds')?.samples
    .filter((sample) => sample.name.endsWith('_bucket') && sample.labels.tool === 'add').map((sample) => sample.labels.le)
  assert.deepEqual(buckets, ['0.01', '0.02', '0.05', '0.1', '0.2', '0.5', '1', '2', '5', '10', '30', '60', '120', '300', '+Inf'])
  assert.equal(sampleValue(families, 'mcp_server_refusals_total', { status: '401', reason: 'unauthorized' }), 1)
  assert.equal(sampleValue(families, 'mcp_server_refusals_total', { status: '413', reason: 'payload_too_large' }), 1)
  assert.equal(sampleValue(families, 'mcp_server_sessions', { transport: 'sse' }), 1)
  assert.equal(sampleValue(families, 'mcp_server_streams_opened_total', { stream: 'sse' }), 1)
  assert.equal(sampleValue(families, 'mcp_server_calls_in_flight'), 0)
  assert.ok((sampleValue(families, 'process_resident_memory_bytes') ?? 0) > 0, 'node server adds the process series')

  // Never on the MCP port, and nothing but GET /metrics on the metrics port.
  assert.equal((await request(`${server.baseUrl}/metrics`)).status, 404)
  assert.equal((await request(metricsUrl.replace('/metrics', '/'))).status, 404)
})

test('the plugin exposes its registry for the app to serve, with no process series of its own', async (t) => {
  const { app, baseUrl } = await startApp(t, { telemetry: { metrics: true } })
  assert.ok(app.mcp.metrics !== undefined)
  assert.match(app.mcp.metrics.contentType, /^text\/plain; version=0\.0\.4/)
  await post(`${baseUrl}/mcp`, rpc('tools/call', { name: 'add', arguments: { a: 1, b: 2 } }), AUTH_HEADER)
  const families = parseExposition(await app.mcp.metrics.metrics())
  assert.equal(sampleValue(families, 'mcp_server_operation_duration_seconds_count', { tool: 'add' }), 1)
  assert.equal(sampleValue(families, 'process_resident_memory_bytes'), undefined, 'the plugin adds no process series of its own')
  assert.doesNotMatch(await app.mcp.metrics.metrics(), new RegExp(TOKEN))
})

test('legacy SSE calls, stateful sessions and calls in flight are counted; a stream cut for a slow reader too', { timeout: 60_000 }, async (t) => {
  const { app, baseUrl } = await startApp(t, { telemetry: { metrics: true }, sse: { maxBufferedBytes: 64 * 1024 }, streamable: { sessions: true } })
  const scrape = async (): Promise<ReturnType<typeof parseExposition>> => parseExposition(await (app.mcp.metrics as MetricsRegistry).metrics())

  const session = await openSse(t, baseUrl)
  await session.send(rpc('tools/call', { name: 'add', arguments: { a: 1, b: 2 } }, 1))
  await session.nextMessage()
  await initializeSession(`${baseUrl}/mcp`)
  let families = await scrape()
  assert.equal(sampleValue(families, 'mcp_server_operation_duration_seconds_count', { method: 'tools/call', tool: 'add', error_type: '' }), 1, 'the SSE call')
  assert.equal(sampleValue(families, 'mcp_server_operation_duration_seconds_count', { method: 'initialize', tool: '', error_type: '' }), 1)
  assert.equal(sampleValue(families, 'mcp_server_sessions', { transport: 'sse' }), 1)
  assert.equal(sampleValue(families, 'mcp_server_sessions', { transport: 'streamable_http' }), 1)
  assert.equal(sampleValue(families, 'mcp_server_calls_in_flight'), 0)

  // A call held open is in flight while it runs, and leaves when its client goes.
  assert.equal((await session.send(rpc('tools/call', { name: 'slow', arguments: { ms: 30_000 } }, 2))).status, 202)
  await waitFor('the slow call to run', async () => sampleValue(await scrape(), 'mcp_server_calls_in_flight') === 1 ? true : undefined)
  session.disconnect()
  families = await waitFor('the call to end', async () => {
    const now = await scrape()
    return sampleValue(now, 'mcp_server_calls_in_flight') === 0 ? now : undefined
  })
  assert.equal(sampleValue(families, 'mcp_server_operation_duration_seconds_count', { method: 'tools/call', tool: 'slow', error_type: 'cancelled' }), 1)

  const { sessionId } = await openStalledSse(t, baseUrl, TOKEN)
  const bigCall = { name: 'echo', arguments: { text: 'x'.repeat(1024), times: 1024 } }
  let status = 202
  for (let id = 0; id < 200 && status === 202; id++) {
    status = (await post(`${baseUrl}/messages?sessionId=${sessionId}`, rpc('tools/call', bigCall, id), AUTH_HEADER)).status
  }
  assert.equal(status, 404, 'the stalled session was cut')
  families = await scrape()
  assert.equal(sampleValue(families, 'mcp_server_streams_cut_total', { stream: 'sse' }), 1)
  assert.equal(sampleValue(families, 'mcp_server_streams_opened_total', { stream: 'sse' }), 2)
  assert.equal(sampleValue(families, 'mcp_server_sessions', { transport: 'sse' }), 0)
})

test('refusals are counted by status and reason: 403, 429 per caller, 503 at capacity, 503 while draining', { timeout: 30_000 }, async (t) => {
  const tokens = ['token-one-aaaaaaaa', 'token-two-bbbbbbbb', 'token-three-cccccc']
  const { app, baseUrl } = await startApp(t, {
    auth: { tokens }, telemetry: { metrics: true }, sse: { maxSessions: 2 }, maxSessionsPerIdentity: 1
  })
  const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` })
  await openSse(t, baseUrl, bearer(tokens[0]))
  assert.equal((await request(`${baseUrl}/sse`, { headers: bearer(tokens[0]) })).status, 429)
  await openSse(t, baseUrl, bearer(tokens[1]))
  assert.equal((await request(`${baseUrl}/sse`, { headers: bearer(tokens[2]) })).status, 503)
  assert.equal(await rawStatus(`${baseUrl}/mcp`, { ...bearer(tokens[0]), origin: 'http://evil.example' }), 403)
  await app.mcp.drain(0)
  assert.equal((await post(`${baseUrl}/mcp`, rpc('ping'), bearer(tokens[0]))).status, 503)

  const text = await (app.mcp.metrics as MetricsRegistry).metrics()
  const families = parseExposition(text)
  const refusals = families.get('mcp_server_refusals_total')?.samples.map((sample) => `${sample.labels.status} ${sample.labels.reason} ${sample.value}`).sort()
  assert.deepEqual(refusals, ['403 forbidden 1', '429 too_many_requests 1', '503 capacity 1', '503 draining 1'])
  for (const token of tokens) assert.ok(!text.includes(token), 'no token in any label')
})

test('without telemetry.metrics there is no registry', async (t) => {
  const { app } = await startApp(t, {})
  assert.equal(app.mcp.metrics, undefined)
})

/** The status of a POST sent with node:http (fetch will not send every header a browser would). */
async function rawStatus (url: string, headers: Record<string, string>): Promise<number> {
  return await new Promise((resolve, reject) => {
    const outgoing = httpRequest(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, agent: false }, (incoming) => {
      incoming.resume()
      incoming.once('end', () => { resolve(incoming.statusCode ?? 0) })
    })
    outgoing.on('error', reject)
    outgoing.end(JSON.stringify(rpc('ping')))
  })
}

test('the stream routes (GET /sse, a stateful GET /mcp) are marked to stay out of HTTP-duration histograms; POST /mcp is not', async (t) => {
  const app = Fastify({ logger: false })
  t.after(async () => { await app.close() })
  const marked: string[] = []
  app.addHook('onRoute', (route) => { if (route.config?.disableMetrics === true) marked.push(`${String(route.method)} ${route.url}`) })
  await app.register(mcpPlugin, { auth: { tokens: [TOKEN] }, tools: [], streamable: { sessions: true } })
  await app.ready()
  assert.deepEqual(marked.sort(), ['GET /mcp', 'GET /sse'])
})
