import { test, describe, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { PassThrough } from 'node:stream'
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api'
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-node'
import { startApp, AUTH_HEADER } from '../helpers/app.js'
import { post, rpc } from '../helpers/raw-http.js'
import { openSse } from '../helpers/sse-client.js'
import { fixturePrompts, fixtureResources } from '../helpers/fixture-content.js'
import { fixtureTools } from '../helpers/fixture-tools.js'
import { createDispatcher } from '../../plugin/core.js'
import { serveStdio } from '../../plugin/transports/stdio/stdio-server.js'
import { silentLogger } from '../../plugin/protocol/logger.js'
import { createTracing } from '../../plugin/telemetry/tracing/mcp-tracing.js'

// One provider for this file's process, registered before any app: the plugin looks for it when it registers.
const exporter = new InMemorySpanExporter()
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
provider.register()

const MODERN_META = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} }
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736'
const PARENT_SPAN = '00f067aa0ba902b7'

function modernHeaders (method: string, name?: string): Record<string, string> {
  return { ...AUTH_HEADER, 'mcp-protocol-version': '2026-07-28', 'mcp-method': method, ...(name === undefined ? {} : { 'mcp-name': name }) }
}

/** The spans ended so far whose MCP method is `method`, oldest first. */
function spansOf (method: string): ReadableSpan[] {
  return exporter.getFinishedSpans().filter((span) => span.attributes['mcp.method.name'] === method)
}

async function started (t: TestContext, options: Record<string, unknown> = {}): Promise<string> {
  exporter.reset()
  return (await startApp(t, { resources: fixtureResources, prompts: fixturePrompts, ...options })).baseUrl
}

describe('spans by the MCP semantic conventions, over Streamable HTTP', () => {
  test('a 2025 tools/call is one SERVER span named after its tool, with the conventions\' attributes', async (t) => {
    const baseUrl = await started(t)
    const answer = await post(`${baseUrl}/mcp`, rpc('tools/call', { name: 'add', arguments: { a: 1, b: 2 } }, 7), { ...AUTH_HEADER, 'mcp-protocol-version': '2025-06-18' })
    assert.equal(answer.status, 200)
    const [span] = spansOf('tools/call')
    assert.equal(span.name, 'tools/call add')
    assert.equal(span.kind, SpanKind.SERVER)
    assert.deepEqual(span.attributes, {
      'mcp.method.name': 'tools/call',
      'jsonrpc.request.id': '7',
      'network.transport': 'tcp',
      'gen_ai.tool.name': 'add',
      'gen_ai.operation.name': 'execute_tool',
      'mcp.protocol.version': '2025-06-18',
      'network.protocol.name': 'http',
      'client.address': '127.0.0.1'
    })
    assert.equal(span.status.code, SpanStatusCode.UNSET)
    assert.equal(exporter.getFinishedSpans().length, 1, 'one span per request, nothing else')
  })

  test('a 2026-07-28 tools/call carries its revision', async (t) => {
    const baseUrl = await started(t)
    await post(`${baseUrl}/mcp`, rpc('tools/call', { name: 'add', arguments: { a: 1, b: 2 }, _meta: MODERN_META }), modernHeaders('tools/call', 'add'))
    const [span] = spansOf('tools/call')
    assert.equal(span.attributes['mcp.protocol.version'], '2026-07-28')
    assert.equal(span.attributes['gen_ai.tool.name'], 'add')
  })

  test('resources/read and prompts/get: the URI (no query) and the prompt name', async (t) => {
    const baseUrl = await started(t)
    await post(`${baseUrl}/mcp`, rpc('resources/read', { uri: 'users://bob/profile' }), AUTH_HEADER)
    await post(`${baseUrl}/mcp`, rpc('prompts/get', { name: 'review', arguments: { language: 'rust' } }), AUTH_HEADER)
    const [read] = spansOf('resources/read')
    assert.equal(read.name, 'resources/read', 'no high-cardinality URI in the name')
    assert.equal(read.attributes['mcp.resource.uri'], 'users://bob/profile')
    const [prompt] = spansOf('prompts/get')
    assert.equal(prompt.name, 'prompts/get review')
    assert.equal(prompt.attributes['gen_ai.prompt.name'], 'review')
  })

  test('failures: a tool error is tool_error, a thrown handler too, an unknown method and tool their JSON-RPC codes', async (t) => {
    const baseUrl = await started(t)
    await post(`${baseUrl}/mcp`, rpc('tools/call', { name: 'add', arguments: { a: 'x' } }, 1), AUTH_HEADER)
    await post(`${baseUrl}/mcp`, rpc('tools/call', { name: 'fail', arguments: {} }, 2), AUTH_HEADER)
    await post(`${baseUrl}/mcp`, rpc('tools/call', { name: 'nope', arguments: {} }, 3), AUTH_HEADER)
    await post(`${baseUrl}/mcp`, rpc('no/such/method', {}, 4), AUTH_HEADER)
    const byId = new Map(exporter.getFinishedSpans().map((span) => [span.attributes['jsonrpc.request.id'], span]))
    assert.equal(byId.get('1')?.attributes['error.type'], 'tool_error')
    assert.equal(byId.get('1')?.status.code, SpanStatusCode.ERROR)
    assert.equal(byId.get('2')?.attributes['error.type'], 'tool_error')
    assert.equal(byId.get('2')?.status.message, 'the database is unreachable')
    assert.equal(byId.get('3')?.attributes['error.type'], '-32602')
    assert.equal(byId.get('3')?.attributes['rpc.response.status_code'], '-32602')
    assert.match(String(byId.get('3')?.status.message), /Unknown tool/)
    assert.equal(byId.get('4')?.name, 'no/such/method')
    assert.equal(byId.get('4')?.attributes['error.type'], '-32601')
  })

  test('the parent comes from params._meta traceparent, with the HTTP request\'s context linked', async (t) => {
    const baseUrl = await started(t)
    const meta = { traceparent: `00-${TRACE_ID}-${PARENT_SPAN}-01`, tracestate: 'rojo=00f067aa0ba902b7' }
    await post(`${baseUrl}/mcp`, rpc('tools/call', { name: 'add', arguments: { a: 1, b: 2 }, _meta: meta }), AUTH_HEADER)
    const [span] = spansOf('tools/call')
    assert.equal(span.spanContext().traceId, TRACE_ID)
    assert.equal(span.parentSpanContext?.spanId, PARENT_SPAN)
    assert.equal(span.spanContext().traceState?.get('rojo'), '00f067aa0ba902b7')
  })

  test('without _meta, the span is a child of the context active when the request arrived', async (t) => {
    exporter.reset()
    const app = (await startApp(t, {})).app
    const tracer = trace.getTracer('test')
    const parent = tracer.startSpan('outer')
    const response = await context.with(trace.setSpan(context.active(), parent), async () =>
      await app.inject({ method: 'POST', url: '/mcp', headers: { ...AUTH_HEADER, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, payload: rpc('ping') }))
    parent.end()
    assert.equal(response.statusCode, 200)
    const [span] = spansOf('ping')
    assert.equal(span.parentSpanContext?.spanId, parent.spanContext().spanId)
    assert.equal(span.spanContext().traceId, parent.spanContext().traceId)
  })

  test('progress is an event on the span, and the handler\'s own spans are its children', async (t) => {
    const baseUrl = await started(t)
    await post(`${baseUrl}/mcp`, rpc('tools/call', { name: 'countdown', arguments: { steps: 3 }, _meta: { progressToken: 'p' } }), AUTH_HEADER)
    const [span] = spansOf('tools/call')
    assert.deepEqual(span.events.map((event) => [event.name, event.attributes?.['mcp.progress']]), [
      ['notifications/progress', 1], ['notifications/progress', 2], ['notifications/progress', 3]
    ])
  })

  test('a request whose client goes away ends its span as cancelled', async (t) => {
    const { app, baseUrl } = await startApp(t, {})
    exporter.reset()
    const controller = new AbortController()
    const call = fetch(`${baseUrl}/mcp`, {
      method: 'POST',
      signal: controller.signal,
      headers: { ...AUTH_HEADER, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify(rpc('tools/call', { name: 'slow', arguments: { ms: 10_000 } }))
    })
    while (app.mcp.status().inFlight === 0) await new Promise((resolve) => setTimeout(resolve, 10))
    controller.abort()
    await assert.rejects(call)
    while (spansOf('tools/call').length === 0) await new Promise((resolve) => setTimeout(resolve, 10))
    const [span] = spansOf('tools/call')
    assert.deepEqual(span.events.map((event) => event.name), ['mcp.request.cancelled'])
    assert.equal(span.attributes['error.type'], 'cancelled')
  })

  test('tracing: false makes no span', async (t) => {
    const baseUrl = await started(t, { telemetry: { tracing: false } })
    await post(`${baseUrl}/mcp`, rpc('tools/call', { name: 'add', arguments: { a: 1, b: 2 } }), AUTH_HEADER)
    assert.deepEqual(exporter.getFinishedSpans(), [])
  })
})

describe('spans over the other transports', () => {
  test('legacy SSE: the span names the session', async (t) => {
    const baseUrl = await started(t)
    const session = await openSse(t, baseUrl)
    await session.send(rpc('tools/call', { name: 'add', arguments: { a: 1, b: 2 } }, 5))
    await session.nextMessage()
    const [span] = spansOf('tools/call')
    assert.equal(span.attributes['mcp.session.id'], session.sessionId)
    assert.equal(span.attributes['mcp.protocol.version'], '2024-11-05')
  })

  test('stdio: a span per message, network.transport pipe', async () => {
    exporter.reset()
    const dispatcher = createDispatcher({ info: { name: 'traced', version: '1' }, tools: fixtureTools, observer: await createTracing() })
    const input = new PassThrough()
    const output = new PassThrough()
    const lines: string[] = []
    output.setEncoding('utf8').on('data', (chunk: string) => { lines.push(...chunk.split('\n').filter((line) => line !== '')) })
    const server = serveStdio({ dispatcher, input, output, log: silentLogger, closeGraceMs: 100 })
    input.end([
      JSON.stringify(rpc('tools/call', { name: 'add', arguments: { a: 1, b: 2 } }, 1)),
      JSON.stringify(rpc('tools/call', { name: 'add', arguments: { a: 1, b: 2 }, _meta: MODERN_META }, 2)),
      ''
    ].join('\n'))
    await server.closed
    assert.equal(lines.length, 2)
    const spans = spansOf('tools/call')
    assert.deepEqual(spans.map((span) => span.attributes['network.transport']), ['pipe', 'pipe'])
    assert.deepEqual(spans.map((span) => span.attributes['mcp.protocol.version']), [undefined, '2026-07-28'])
  })
})
