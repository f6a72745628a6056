import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { REPO_ROOT, spawnServer } from '../helpers/spawn-server.js'
import { post, rpc } from '../helpers/raw-http.js'
import { TOKEN, waitFor } from './support.js'

const HOOK = join(REPO_ROOT, 'dist', 'test', 'fixtures', 'record-loads.js')

/** Packages of optional features: none may load unless its feature is configured. */
const OPTIONAL_PACKAGES = /\/node_modules\/(jose|ioredis|prom-client|@opentelemetry\/[^/]+)\//
/** Our own code of optional features: bundle chunks (named after their entry file) or compiled files. */
const OPTIONAL_OURS = /\/dist\/(server\/bundle\/(install-oauth|create-cluster|bridge-setup|mcp-tracing|mcp-metrics|otlp-tracing|metrics-listener|scope-guard|operation-scopes)-[^/]*\.js|plugin\/(auth\/oauth|cluster|redis|bridge\/bridge-setup|telemetry\/(tracing|metrics))\/?[^/]*\.js|server\/(otlp-tracing|metrics-listener)\.js)$/

/** Starts `node server` with the module-load recorder, makes one call, and returns every module it loaded. */
async function loadsOf (t: TestContext, env: Record<string, string> = {}): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-loads-'))
  t.after(() => { rmSync(dir, { recursive: true, force: true }) })
  const record = join(dir, 'loads.txt')
  const server = await spawnServer(t, [], { MCP_TOKEN: TOKEN, NODE_OPTIONS: `--import=${HOOK}`, RECORD_LOADS_FILE: record, ...env })
  const answer = await post(`${server.baseUrl}/mcp`, rpc('tools/call', { name: 'server_status', arguments: {} }), { authorization: `Bearer ${TOKEN}` })
  assert.equal(answer.json.result.structuredContent.status, 'ok')
  // Loads happen while the call runs and just after: wait for the call's own log line.
  await waitFor('the call line', () => server.stdout().includes('"msg":"MCP call"') ? true : undefined)
  return readFileSync(record, 'utf8').split('\n').filter((line) => line !== '').map((line) => line.split(' ')[1])
}

test('node server with nothing optional configured loads no OAuth, cluster, bridge, tracing or metrics code', async (t) => {
  const loaded = await loadsOf(t)
  assert.ok(loaded.some((url) => /\/dist\/server\/bundle\/http-[^/]*\.js$/.test(url)), 'the recorder saw the HTTP entry (sanity check)')
  assert.ok(loaded.some((url) => /\/node_modules\/fastify\//.test(url)), 'the recorder saw packages load (sanity check)')
  assert.deepEqual(loaded.filter((url) => OPTIONAL_PACKAGES.test(url) || OPTIONAL_OURS.test(url)), [])
})

test('the same recorder sees the metrics code and prom-client load once metrics are configured', async (t) => {
  const loaded = await loadsOf(t, { MCP_METRICS_PORT: '0' })
  assert.ok(loaded.some((url) => /\/node_modules\/prom-client\//.test(url)), 'prom-client loaded')
  assert.ok(loaded.some((url) => /\/dist\/server\/bundle\/mcp-metrics-[^/]*\.js$/.test(url)), 'our metrics code loaded')
  assert.ok(!loaded.some((url) => /\/node_modules\/@opentelemetry\//.test(url)), 'tracing stays unloaded')
})

test('the same recorder sees the tracing code and OpenTelemetry load once an OTLP endpoint is configured', async (t) => {
  // Nothing listens there: spans are dropped after the exporter's retries, which is all this test needs.
  const loaded = await loadsOf(t, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', OTEL_BSP_SCHEDULE_DELAY: '60000' })
  assert.ok(loaded.some((url) => /\/node_modules\/@opentelemetry\/sdk-trace-node\//.test(url)), 'the SDK loaded')
  assert.ok(loaded.some((url) => /\/dist\/server\/bundle\/(mcp-tracing|otlp-tracing)-[^/]*\.js$/.test(url)), 'our tracing code loaded')
  assert.ok(!loaded.some((url) => /\/node_modules\/prom-client\//.test(url)), 'metrics stay unloaded')
})
