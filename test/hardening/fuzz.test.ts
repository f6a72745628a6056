import { test, describe, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { request as httpRequest, type ClientRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http'
import fc from 'fast-check'
import Fastify from 'fastify'
import mcpPlugin, { type McpPluginOptions } from '../../plugin/index.js'
import { TOKEN } from '../helpers/app.js'
import { fixtureTools } from '../helpers/fixture-tools.js'
import { rpc, INITIALIZE_PARAMS } from '../helpers/raw-http.js'
import { openSse } from '../helpers/sse-client.js'
import { assertJsonRpcMessage, assertJsonRpcResponse, eventData, send, watchProcessFaults } from './support.js'

/**
 * Property-based fuzzing of request bodies and headers against a live server. Every property runs FUZZ_RUNS times
 * (200 by default) from one seed, printed as a diagnostic and in any failure: replay a failure with
 * FUZZ_SEED=<seed> node --test dist/test/hardening/fuzz.test.js. The invariants: never a 5xx, every body a
 * well-formed JSON-RPC message (or empty for 202/204), the server answers a ping after every run, and no
 * unhandled rejection or uncaught exception in the process.
 */
const SEED = process.env.FUZZ_SEED === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(process.env.FUZZ_SEED)
const RUNS = Number(process.env.FUZZ_RUNS ?? 200)
const AUTH = `Bearer ${TOKEN}`
const TOOL_NAMES = fixtureTools.map((tool) => tool.name)
const METHODS = ['initialize', 'ping', 'tools/list', 'tools/call', 'resources/list', 'resources/read', 'prompts/get', 'logging/setLevel',
  'completion/complete', 'notifications/initialized', 'notifications/cancelled', 'server/discover', 'subscriptions/listen']

interface FuzzResponse {
  status: number
  headers: IncomingHttpHeaders
  text: string
}

/**
 * One request; an event stream is read to its end, except the endless kind a GET opens, which is dropped once its
 * headers arrived. Resolves with status 0 when node:http itself refuses to send the request (an invalid header).
 */
async function fuzzRequest (baseUrl: string, method: string, path: string, headers: OutgoingHttpHeaders, body?: string): Promise<FuzzResponse> {
  return await new Promise((resolve, reject) => {
    let outgoing: ClientRequest | undefined
    try {
      outgoing = httpRequest(new URL(path, baseUrl), { method, headers, agent: false, timeout: 10_000 }, (incoming) => {
        if (method === 'GET' && String(incoming.headers['content-type']).startsWith('text/event-stream')) {
          outgoing?.destroy()
          resolve({ status: incoming.statusCode ?? 0, headers: incoming.headers, text: '' })
          return
        }
        const chunks: Buffer[] = []
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk))
        incoming.on('end', () => { resolve({ status: incoming.statusCode ?? 0, headers: incoming.headers, text: Buffer.concat(chunks).toString('utf8') }) })
        incoming.on('error', reject)
      })
    } catch {
      resolve({ status: 0, headers: {}, text: '' })
      return
    }
    const sent = outgoing
    sent.on('timeout', () => { sent.destroy(new Error(`${method} ${path}: no answer within 10 s`)) })
    sent.on('error', reject)
    sent.end(body)
  })
}

/** The invariants every answer must hold, whatever was sent. */
function assertWellFormed (response: FuzzResponse, label: string): void {
  if (response.status === 0) return // node:http refused to send it: nothing reached the server
  assert.ok(response.status < 500, `${label}: status ${response.status} ${response.text.slice(0, 300)}`)
  if (response.status === 202 || response.status === 204 || response.text === '') {
    assert.equal(response.text, '', `${label}: ${response.status} carries no body`)
    return
  }
  const type = String(response.headers['content-type'])
  if (type.startsWith('text/event-stream')) {
    const messages = eventData(response.text).map((data) => JSON.parse(data) as unknown)
    for (const message of messages) assertJsonRpcMessage(message, `${label}: stream event`)
    return
  }
  assert.match(type, /^application\/json/, `${label}: a JSON body`)
  assertJsonRpcResponse(JSON.parse(response.text), label)
}

/** Bytes node:http allows in a header value: visible ASCII, space, tab and Latin-1. */
const headerChar = fc.oneof(
  fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)),
  fc.integer({ min: 0x80, max: 0xff }).map((code) => String.fromCharCode(code)),
  fc.constant('\t')
)
const headerValue = fc.oneof(
  fc.string({ unit: headerChar, maxLength: 60 }),
  fc.string({ unit: headerChar, minLength: 1000, maxLength: 6000 })
)

const jsonId = fc.oneof(fc.integer(), fc.string({ maxLength: 20 }), fc.double(), fc.constant(null), fc.boolean(),
  fc.constantFrom(0, -0, 2 ** 53 + 1, '\ud800', ''), fc.array(fc.integer(), { maxLength: 2 }), fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 2 }))
const params = fc.oneof(
  fc.record({ name: fc.constantFrom(...TOOL_NAMES, 'nope'), arguments: fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.record({ a: fc.jsonValue({ maxDepth: 1 }), b: fc.double(), ms: fc.integer({ min: 0, max: 50 }), text: fc.string(), times: fc.integer({ min: -2, max: 5 }), steps: fc.integer({ min: 0, max: 4 }) }, { requiredKeys: [] })) }, { requiredKeys: [] }),
  fc.record({ protocolVersion: fc.oneof(fc.constantFrom('2025-11-25', '2024-11-05', '2026-07-28'), fc.string({ maxLength: 12 })), capabilities: fc.jsonValue({ maxDepth: 2 }), clientInfo: fc.jsonValue({ maxDepth: 2 }) }, { requiredKeys: [] }),
  fc.record({ _meta: fc.record({ 'io.modelcontextprotocol/protocolVersion': fc.constantFrom('2026-07-28', 'x'), 'io.modelcontextprotocol/clientCapabilities': fc.jsonValue({ maxDepth: 2 }), progressToken: jsonId }, { requiredKeys: [] }), name: fc.constantFrom(...TOOL_NAMES), uri: fc.string(), level: fc.string() }, { requiredKeys: [] }),
  fc.jsonValue({ maxDepth: 3 })
)
/** JSON-RPC-shaped objects: mostly requests that parse, with every member sometimes missing or of the wrong type. */
const message = fc.oneof(
  { weight: 3, arbitrary: fc.record({ jsonrpc: fc.constant('2.0'), id: fc.oneof(fc.integer(), fc.string({ maxLength: 8 })), method: fc.constantFrom(...METHODS), params }, { requiredKeys: ['jsonrpc', 'id', 'method'] }) },
  {
    weight: 2,
    arbitrary: fc.record({
      jsonrpc: fc.oneof({ weight: 5, arbitrary: fc.constant('2.0') }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) }),
      id: jsonId,
      method: fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...METHODS) }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) }),
      params,
      result: fc.jsonValue({ maxDepth: 2 }),
      error: fc.jsonValue({ maxDepth: 2 })
    }, { requiredKeys: [] })
  }
)
const anyJson = fc.oneof({ weight: 4, arbitrary: message }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }) }, { weight: 1, arbitrary: fc.array(message, { maxLength: 3 }) })
/** Text that is sometimes JSON, sometimes JSON with a wound, sometimes anything at all. */
const anyText = fc.oneof(
  anyJson.map((value) => JSON.stringify(value)),
  fc.tuple(anyJson.map((value) => JSON.stringify(value) ?? ''), fc.nat(), fc.string({ unit: 'binary', maxLength: 3 }))
    .map(([text, at, cut]) => text.slice(0, at % (text.length + 1)) + cut + text.slice((at % (text.length + 1)) + 1)),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.nat({ max: 5000 }).map((depth) => `${'['.repeat(depth)}${']'.repeat(depth)}`)
)
/** Bodies that pass every check, most of the time, so that the headers are what decides. */
const mostlyValid = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(rpc('ping'), rpc('initialize', INITIALIZE_PARAMS), rpc('tools/call', { name: 'add', arguments: { a: 1, b: 2 } }), rpc('tools/list')).map((body) => JSON.stringify(body)) },
  { weight: 1, arbitrary: anyText }
)

const MCP_HEADERS: OutgoingHttpHeaders = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: AUTH }
const fuzzedHeaders = fc.record({
  'content-type': fc.oneof(fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'APPLICATION/JSON', 'application/x-www-form-urlencoded'), headerValue),
  accept: fc.oneof(fc.constantFrom('application/json, text/event-stream', '*/*', 'text/event-stream', 'application/json'), headerValue),
  authorization: fc.oneof({ weight: 4, arbitrary: fc.constant(AUTH) }, { weight: 1, arbitrary: headerValue }, { weight: 1, arbitrary: headerValue.map((value) => `Bearer ${value}`) }),
  'mcp-protocol-version': fc.oneof(fc.constantFrom('2025-11-25', '2025-06-18', '2024-11-05', '2026-07-28'), headerValue),
  'mcp-session-id': headerValue,
  'last-event-id': headerValue,
  origin: fc.oneof(fc.constantFrom('http://localhost', 'http://127.0.0.1:1', 'https://evil.example', 'null'), headerValue),
  'x-fuzz': headerValue
})
/** The MCP headers with one to three of them replaced by fuzz or dropped, so that each check gets its turn. */
const headers = fc.tuple(fuzzedHeaders, fc.subarray(['content-type', 'accept', 'authorization', 'mcp-protocol-version', 'mcp-session-id', 'last-event-id', 'origin', 'x-fuzz'] as const, { minLength: 1, maxLength: 3 }), fc.boolean())
  .map(([values, names, drop]): OutgoingHttpHeaders => {
    const result: OutgoingHttpHeaders = { ...MCP_HEADERS }
    for (const name of names) {
      if (drop && name in result) delete result[name]
      else result[name] = values[name]
    }
    return result
  })

/** `arbitrary` one time in six, null otherwise. */
function sometimes<T> (arbitrary: fc.Arbitrary<T>): fc.Arbitrary<T | null> {
  return fc.oneof({ weight: 5, arbitrary: fc.constant(null) }, { weight: 1, arbitrary })
}

/**
 * 2026-07-28 requests: the era in `_meta`, and the revision's headers, each mostly right and sometimes fuzzed.
 * `subscriptions/listen` is left out: its stream stays open by design.
 */
const modernRequest = fc.record({
  method: fc.constantFrom(...METHODS.filter((method) => method !== 'subscriptions/listen'), 'tools/call', 'tools/call'),
  id: fc.oneof(fc.integer(), fc.string({ maxLength: 8 })),
  params,
  version: fc.oneof({ weight: 5, arbitrary: fc.constant('2026-07-28') }, { weight: 1, arbitrary: fc.string({ maxLength: 12 }) }),
  capabilities: fc.oneof({ weight: 5, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) }),
  headerVersion: sometimes(headerValue),
  headerMethod: sometimes(headerValue),
  headerName: sometimes(headerValue)
}).map(({ method, id, params, version, capabilities, headerVersion, headerMethod, headerName }) => {
  const base = typeof params === 'object' && params !== null && !Array.isArray(params) ? params as Record<string, unknown> : {}
  const body = { jsonrpc: '2.0', id, method, params: { ...base, _meta: { 'io.modelcontextprotocol/protocolVersion': version, 'io.modelcontextprotocol/clientCapabilities': capabilities } } }
  const name = typeof base.name === 'string' ? base.name : typeof base.uri === 'string' ? base.uri : ''
  const headers: OutgoingHttpHeaders = {
    ...MCP_HEADERS,
    'mcp-protocol-version': headerVersion ?? version,
    'mcp-method': headerMethod ?? method,
    'mcp-name': headerName ?? (/^[\x20-\x7e]*$/.test(name) ? name : `=?base64?${Buffer.from(name).toString('base64')}?=`)
  }
  return { body: JSON.stringify(body), headers }
})

async function startFuzzApp (t: TestContext, options: Partial<McpPluginOptions> = {}): Promise<string> {
  const app = Fastify({ logger: false, forceCloseConnections: true })
  await app.register(mcpPlugin, { auth: { tokens: [TOKEN] }, tools: fixtureTools, toolTimeoutMs: 200, bodyLimit: 64 * 1024, ...options } as McpPluginOptions)
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.after(async () => { await app.close() })
  return `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
}

async function assertAlive (baseUrl: string): Promise<void> {
  const response = await send(baseUrl, { path: '/mcp', headers: MCP_HEADERS, body: rpc('ping', undefined, 'alive') })
  assert.deepEqual(response.json, { jsonrpc: '2.0', id: 'alive', result: {} }, 'the server answers a ping after the run')
}

/**
 * Runs a property with the shared seed and run count; a failure names the seed to replay it with. The predicate
 * returns the status it got, and the spread of statuses is printed, to show what the inputs reached.
 */
async function check<T> (t: TestContext, arbitrary: fc.Arbitrary<T>, predicate: (value: T) => Promise<number>): Promise<void> {
  t.diagnostic(`fast-check seed ${SEED}, ${RUNS} runs (replay with FUZZ_SEED=${SEED})`)
  const statuses = new Map<number, number>()
  try {
    await fc.assert(fc.asyncProperty(arbitrary, async (value) => {
      const status = await predicate(value)
      statuses.set(status, (statuses.get(status) ?? 0) + 1)
    }), { numRuns: RUNS, seed: SEED })
  } catch (error) {
    throw new Error(`${(error as Error).message}\nReplay with FUZZ_SEED=${SEED}`)
  }
  t.diagnostic(`statuses: ${[...statuses].sort(([a], [b]) => a - b).map(([status, count]) => `${status}×${count}`).join(' ')}`)
}

describe('fuzzing a live server', () => {
  test('any JSON POSTed to /mcp gets a status below 500 and a well-formed JSON-RPC answer', async (t) => {
    const faults = watchProcessFaults(t)
    const baseUrl = await startFuzzApp(t)
    await check(t, anyJson, async (value) => {
      const response = await fuzzRequest(baseUrl, 'POST', '/mcp', MCP_HEADERS, JSON.stringify(value))
      assertWellFormed(response, JSON.stringify(value).slice(0, 200))
      await assertAlive(baseUrl)
      return response.status
    })
    assert.deepEqual(faults, [])
  })

  test('any text POSTed to /mcp, JSON or not, gets a status below 500 and a well-formed JSON-RPC answer', async (t) => {
    const faults = watchProcessFaults(t)
    const baseUrl = await startFuzzApp(t)
    await check(t, anyText, async (text) => {
      const response = await fuzzRequest(baseUrl, 'POST', '/mcp', MCP_HEADERS, text)
      assertWellFormed(response, JSON.stringify(text.slice(0, 200)))
      await assertAlive(baseUrl)
      return response.status
    })
    assert.deepEqual(faults, [])
  })

  test('any headers on POST, GET and DELETE /mcp get a status below 500 and a well-formed JSON-RPC answer', async (t) => {
    const faults = watchProcessFaults(t)
    const baseUrl = await startFuzzApp(t)
    await check(t, fc.tuple(fc.constantFrom('POST', 'POST', 'GET', 'DELETE'), headers, mostlyValid), async ([method, fuzzed, text]) => {
      const response = await fuzzRequest(baseUrl, method, '/mcp', fuzzed, method === 'POST' ? text : undefined)
      assertWellFormed(response, `${method} ${JSON.stringify(fuzzed).slice(0, 300)}`)
      if (response.status === 401) assert.match(String(response.headers['www-authenticate']), /^Bearer realm="mcp"/)
      await assertAlive(baseUrl)
      return response.status
    })
    assert.deepEqual(faults, [])
  })

  test('any 2026-07-28 request, its headers right or wrong, gets a status below 500 and a well-formed JSON-RPC answer', async (t) => {
    const faults = watchProcessFaults(t)
    const baseUrl = await startFuzzApp(t)
    await check(t, modernRequest, async ({ body, headers: sent }) => {
      const response = await fuzzRequest(baseUrl, 'POST', '/mcp', sent, body)
      assertWellFormed(response, `${JSON.stringify(sent).slice(0, 200)} ${body.slice(0, 200)}`)
      await assertAlive(baseUrl)
      return response.status
    })
    assert.deepEqual(faults, [])
  })

  test('any message, query and headers POSTed to an SSE session get a status below 500, and every answer on its stream is well-formed', async (t) => {
    const faults = watchProcessFaults(t)
    const baseUrl = await startFuzzApp(t)
    const session = await openSse(t, baseUrl)
    const query = fc.oneof(
      fc.constant(`sessionId=${session.sessionId}`),
      fc.string({ maxLength: 80 }).map((id) => `sessionId=${encodeURIComponent(id)}`),
      fc.tuple(fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 })).map(([key, value]) => `sessionId=${session.sessionId}&${encodeURIComponent(key)}=${encodeURIComponent(value)}`)
    )
    await check(t, fc.tuple(query, fc.option(headers, { freq: 2 }), fc.oneof(anyText, mostlyValid)), async ([search, fuzzed, text]) => {
      const response = await fuzzRequest(baseUrl, 'POST', `/messages?${search}`, fuzzed ?? MCP_HEADERS, text)
      assertWellFormed(response, `${search} ${JSON.stringify(text.slice(0, 200))}`)
      await assertAlive(baseUrl)
      return response.status
    })
    assert.equal((await session.send(rpc('ping', undefined, 'last'))).status, 202)
    let answered = 0
    for (;;) {
      const next = await session.nextMessage()
      assertJsonRpcMessage(next, `stream message ${JSON.stringify(next).slice(0, 200)}`)
      answered++
      if (next.id === 'last') break
    }
    t.diagnostic(`${answered} messages on the SSE stream, all well-formed`)
    assert.deepEqual(faults, [])
  })

  test('any message and headers on stateful /mcp get a status below 500 and a well-formed JSON-RPC answer', async (t) => {
    const faults = watchProcessFaults(t)
    const baseUrl = await startFuzzApp(t, { streamable: { sessions: true, maxSessions: 10_000 } })
    const start = await send(baseUrl, { path: '/mcp', headers: MCP_HEADERS, body: rpc('initialize', INITIALIZE_PARAMS, 0) })
    const sessionId = String(start.headers['mcp-session-id'])
    const sessionHeaders = headers.chain((fuzzed) => fc.constantFrom(
      { ...fuzzed, 'mcp-session-id': sessionId },
      { ...MCP_HEADERS, 'mcp-session-id': sessionId, 'last-event-id': String(fuzzed['x-fuzz'] ?? '0:0') },
      fuzzed
    ))
    await check(t, fc.tuple(fc.constantFrom('POST', 'POST', 'GET', 'DELETE'), sessionHeaders, fc.oneof(anyText, mostlyValid)), async ([method, fuzzed, text]) => {
      const response = await fuzzRequest(baseUrl, method, '/mcp', fuzzed, method === 'POST' ? text : undefined)
      assertWellFormed(response, `${method} ${JSON.stringify(fuzzed).slice(0, 300)} ${JSON.stringify(text.slice(0, 100))}`)
      const fresh = await send(baseUrl, { path: '/mcp', headers: MCP_HEADERS, body: rpc('initialize', INITIALIZE_PARAMS, 'alive') })
      assert.equal(fresh.status, 200, 'a new session starts after the run')
      const ended = await send(baseUrl, { method: 'DELETE', path: '/mcp', headers: { authorization: AUTH, 'mcp-session-id': String(fresh.headers['mcp-session-id']) } })
      assert.equal(ended.status, 204)
      return response.status
    })
    assert.deepEqual(faults, [])
  })
})
