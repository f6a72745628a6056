import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import { spawnServer } from '../helpers/spawn-server.js'
import { post, rpc } from '../helpers/raw-http.js'
import { TOKEN, TOOLS_FIXTURE, waitFor } from '../server/support.js'

interface Received { path: string, headers: IncomingHttpHeaders, body: any }

/** A collector stand-in on a loopback port: keeps what the OTLP/HTTP exporter posts (JSON) and answers 200. */
async function startCollector (t: { after: (fn: () => Promise<void>) => void }): Promise<{ url: string, received: Received[] }> {
  const received: Received[] = []
  const server = createServer((incoming, outgoing) => {
    let text = ''
    incoming.setEncoding('utf8').on('data', (chunk: string) => { text += chunk })
    incoming.on('end', () => {
      received.push({ path: incoming.url ?? '', headers: incoming.headers, body: JSON.parse(text) })
      outgoing.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(async () => { await new Promise<void>((resolve) => server.close(() => { resolve() })) })
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, received }
}

/** Every span the collector received, flattened, with its attributes as a plain object. */
function spansOf (received: Received[]): Array<{ name: string, kind: number, traceId: string, parentSpanId: string | undefined, attributes: Record<string, unknown>, service: unknown }> {
  return received.flatMap(({ body }) => (body.resourceSpans ?? []).flatMap((resourceSpans: any) => {
    const service = resourceSpans.resource?.attributes?.find((attribute: any) => attribute.key === 'service.name')?.value?.stringValue
    return resourceSpans.scopeSpans.flatMap((scope: any) => scope.spans.map((span: any) => ({
      name: span.name,
      kind: span.kind,
      traceId: span.traceId,
      parentSpanId: span.parentSpanId === '' ? undefined : span.parentSpanId,
      service,
      attributes: Object.fromEntries(span.attributes.map((attribute: any) => [attribute.key, Object.values(attribute.value)[0]]))
    })))
  }))
}

test('node server with OTEL_EXPORTER_OTLP_ENDPOINT exports a span per MCP request over OTLP/HTTP, parented by _meta.traceparent, with no secret in it', { timeout: 60_000 }, async (t) => {
  const collector = await startCollector(t)
  const server = await spawnServer(t, ['--tools', TOOLS_FIXTURE], {
    MCP_TOKEN: TOKEN,
    OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
    OTEL_EXPORTER_OTLP_HEADERS: 'x-collector-key=collector-secret-123',
    OTEL_SERVICE_NAME: 'mcp-under-test',
    OTEL_BSP_SCHEDULE_DELAY: '50'
  })
  const auth = { authorization: `Bearer ${TOKEN}` }
  const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
  await post(`${server.baseUrl}/mcp?access_token=${TOKEN}`, rpc('tools/call', { name: 'add', arguments: { a: 1, b: 2 }, _meta: { traceparent } }, 1), auth)
  await post(`${server.baseUrl}/mcp`, rpc('tools/call', { name: 'fail', arguments: {} }, 2), auth)
  await post(`${server.baseUrl}/mcp`, rpc('resources/read', { uri: `memo://readme?key=${TOKEN}` }, 3), auth)

  const spans = await waitFor('three spans at the collector', () => {
    const all = spansOf(collector.received)
    return all.length >= 3 ? all : undefined
  }, 15_000)
  assert.ok(collector.received.every((post) => post.path === '/v1/traces'))
  assert.equal(collector.received[0].headers['x-collector-key'], 'collector-secret-123', 'the exporter read OTEL_EXPORTER_OTLP_HEADERS')
  const [add, fail] = [spans.find((span) => span.name === 'tools/call add'), spans.find((span) => span.name === 'tools/call fail')]
  assert.equal(add?.service, 'mcp-under-test')
  assert.equal(add?.kind, 2, 'SERVER')
  assert.equal(add?.traceId, '4bf92f3577b34da6a3ce929d0e0e4736')
  assert.equal(add?.parentSpanId, '00f067aa0ba902b7')
  assert.deepEqual([add?.attributes['mcp.method.name'], add?.attributes['gen_ai.tool.name']], ['tools/call', 'add'])
  assert.equal(fail?.attributes['error.type'], 'tool_error')
  assert.equal(spans.find((span) => span.name === 'resources/read')?.attributes['mcp.resource.uri'], 'memo://readme?[redacted]')
  const exported = JSON.stringify(collector.received.map((post) => post.body))
  assert.ok(!exported.includes(TOKEN), 'no token in any span')
  assert.doesNotMatch(server.stdout() + server.stderr(), new RegExp(TOKEN))
})
