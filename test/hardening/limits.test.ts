import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import Fastify from 'fastify'
import mcpPlugin, { type McpPluginOptions } from '../../plugin/index.js'
import { startApp, AUTH_HEADER, TOKEN } from '../helpers/app.js'
import { MCP_HEADERS, rpc, INITIALIZE_PARAMS } from '../helpers/raw-http.js'
import { openSse, waitFor } from '../helpers/sse-client.js'
import { getStream, initializeSession, startStatefulApp, waitUntil } from '../helpers/stateful-http.js'
import { gates, statefulResources } from '../helpers/stateful-tools.js'
import { setTimeout as delay } from 'node:timers/promises'
import { send, sendRaw } from './support.js'

const JSON_HEADERS = { ...MCP_HEADERS, ...AUTH_HEADER }

/** A ping whose params carry `size` bytes of padding. */
function paddedPing (size: number): string {
  return JSON.stringify(rpc('ping', { padding: 'x'.repeat(size) }))
}

describe('bodyLimit', () => {
  test('a body over bodyLimit gets 413 with a JSON-RPC error on POST /mcp', async (t) => {
    const { baseUrl } = await startApp(t, { bodyLimit: 1024 })
    const response = await send(baseUrl, { path: '/mcp', headers: JSON_HEADERS, body: paddedPing(2048) })
    assert.equal(response.status, 413)
    assert.deepEqual(response.json, {
      jsonrpc: '2.0', id: null, error: { code: -32000, message: 'Payload Too Large: the request body exceeds this server\'s body limit' }
    })
    const within = await send(baseUrl, { path: '/mcp', headers: JSON_HEADERS, body: paddedPing(512) })
    assert.equal(within.status, 200)
  })

  test('bodyLimit applies to POST /messages too', async (t) => {
    const { baseUrl } = await startApp(t, { bodyLimit: 1024 })
    const session = await openSse(t, baseUrl)
    const response = await send(baseUrl, { path: session.endpoint, headers: JSON_HEADERS, body: paddedPing(2048) })
    assert.equal(response.status, 413)
    assert.equal(response.json.error.code, -32000)
  })

  test('a Content-Length over bodyLimit is refused with 413 before the body is sent', async (t) => {
    const { baseUrl } = await startApp(t, { bodyLimit: 1024 })
    const { host } = new URL(baseUrl)
    const response = await sendRaw(baseUrl,
      `POST /mcp HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\n` +
      'Accept: application/json, text/event-stream\r\nContent-Length: 50000000\r\nConnection: close\r\n\r\n{"jsonrpc":')
    assert.equal(response.status, 413)
    assert.equal(response.json.error.code, -32000)
  })

  test('bodyLimit leaves the host application\'s own routes alone', async (t) => {
    const app = Fastify({ logger: false })
    await app.register(mcpPlugin, { auth: { tokens: [TOKEN] }, bodyLimit: 1024 })
    app.post('/upload', async (request) => ({ received: JSON.stringify(request.body).length }))
    await app.listen({ port: 0, host: '127.0.0.1' })
    t.after(async () => { await app.close() })
    const baseUrl = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
    const response = await send(baseUrl, { path: '/upload', headers: { 'content-type': 'application/json' }, body: { data: 'y'.repeat(4096) } })
    assert.equal(response.status, 200)
    assert.ok(response.json.received > 4096)
  })

  test('without bodyLimit the MCP routes keep the Fastify instance\'s limit', async (t) => {
    const app = Fastify({ logger: false, bodyLimit: 2048 })
    await app.register(mcpPlugin, { auth: { tokens: [TOKEN] } })
    await app.listen({ port: 0, host: '127.0.0.1' })
    t.after(async () => { await app.close() })
    const baseUrl = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
    assert.equal((await send(baseUrl, { path: '/mcp', headers: JSON_HEADERS, body: paddedPing(4096) })).status, 413)
    assert.equal((await send(baseUrl, { path: '/mcp', headers: JSON_HEADERS, body: paddedPing(1024) })).status, 200)
  })
})

const ALICE_1 = 'alice-token-one'
const ALICE_2 = 'alice-token-two'
const BOB = 'bob-token'
const TEAM: McpPluginOptions['auth'] = { tokens: [{ token: ALICE_1, id: 'alice' }, { token: ALICE_2, id: 'alice' }, { token: BOB, id: 'bob' }] }
const MODERN_META = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} }
const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` })

describe('maxSessionsPerIdentity', () => {
  test('an identity at its cap gets 429 with Retry-After for one more SSE stream, while another identity still opens one', async (t) => {
    const { baseUrl } = await startApp(t, { auth: TEAM, maxSessionsPerIdentity: 2 })
    await openSse(t, baseUrl, bearer(ALICE_1))
    await openSse(t, baseUrl, bearer(ALICE_1))
    const refused = await send(baseUrl, { method: 'GET', path: '/sse', headers: bearer(ALICE_1) })
    assert.equal(refused.status, 429)
    assert.equal(refused.headers['retry-after'], '30')
    assert.equal(refused.json.error.code, -32000)
    assert.match(refused.json.error.message, /already holds 2 open sessions and streams, the limit per caller/)
    await openSse(t, baseUrl, bearer(BOB))
  })

  test('tokens that share an identity share its cap', async (t) => {
    const { baseUrl } = await startApp(t, { auth: TEAM, maxSessionsPerIdentity: 1 })
    await openSse(t, baseUrl, bearer(ALICE_1))
    const refused = await send(baseUrl, { method: 'GET', path: '/sse', headers: bearer(ALICE_2) })
    assert.equal(refused.status, 429)
  })

  test('SSE and stateful sessions count together, and a refused initialize carries its request id', async (t) => {
    const { mcpUrl, baseUrl } = await startStatefulApp(t, {}, { auth: TEAM, maxSessionsPerIdentity: 2 })
    await openSse(t, baseUrl, bearer(ALICE_1))
    await initializeSession(mcpUrl, bearer(ALICE_2))
    const refused = await send(baseUrl, { path: '/mcp', headers: { ...MCP_HEADERS, ...bearer(ALICE_1) }, body: rpc('initialize', INITIALIZE_PARAMS, 'init-3') })
    assert.equal(refused.status, 429)
    assert.equal(refused.headers['retry-after'], '30')
    assert.equal(refused.json.id, 'init-3')
    assert.equal(refused.headers['mcp-session-id'], undefined)
    const sse = await send(baseUrl, { method: 'GET', path: '/sse', headers: bearer(ALICE_2) })
    assert.equal(sse.status, 429)
  })

  test('at its cap, a caller\'s new stateful session evicts its least recently used idle one; busy and recent ones stay', async (t) => {
    const { mcpUrl } = await startStatefulApp(t, { evictIdleAfterMs: 300 }, { auth: TEAM, maxSessionsPerIdentity: 2 })
    const old = await initializeSession(mcpUrl, bearer(ALICE_1))
    const streaming = await initializeSession(mcpUrl, bearer(ALICE_1))
    const stream = await getStream(t, mcpUrl, streaming.id, undefined, bearer(ALICE_1))
    await stream.reader.next()
    await delay(400)
    const fresh = await initializeSession(mcpUrl, bearer(ALICE_2))
    assert.equal((await old.post(rpc('ping'))).status, 404, 'the idle session made room')
    assert.equal((await streaming.post(rpc('ping'))).status, 200, 'a session with its GET stream open is never evicted')
    assert.equal((await fresh.post(rpc('ping'))).status, 200)
    const refused = await send(mcpUrl.replace(/\/mcp$/, ''), { path: '/mcp', headers: { ...MCP_HEADERS, ...bearer(ALICE_1) }, body: rpc('initialize', INITIALIZE_PARAMS, 'init-4') })
    assert.equal(refused.status, 429, 'nothing idle is left to evict: the fresh one is too recent')
  })

  test('2026-07-28 listen streams count against the cap, and in /health', async (t) => {
    const { baseUrl } = await startApp(t, { auth: TEAM, maxSessionsPerIdentity: 1 })
    const listen = async (token: string): Promise<Response> => await fetch(`${baseUrl}/mcp`, {
      method: 'POST',
      headers: { ...MCP_HEADERS, ...bearer(token), 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'subscriptions/listen' },
      body: JSON.stringify(rpc('subscriptions/listen', { notifications: { toolsListChanged: true }, _meta: MODERN_META }, 'listen-1'))
    })
    const open = await listen(ALICE_1)
    assert.equal(open.status, 200)
    t.after(async () => { await open.body?.cancel() })
    const health = await (await fetch(`${baseUrl}/health`)).json() as { sessions: { listen: number } }
    assert.equal(health.sessions.listen, 1)
    const refused = await listen(ALICE_2)
    assert.equal(refused.status, 429)
    assert.equal((await send(baseUrl, { method: 'GET', path: '/sse', headers: bearer(ALICE_1) })).status, 429)
    await openSse(t, baseUrl, bearer(BOB))
  })

  test('ending a session makes room for the same identity again', async (t) => {
    const { app, baseUrl, mcpUrl } = await startStatefulApp(t, {}, { auth: TEAM, maxSessionsPerIdentity: 1 })
    const first = await initializeSession(mcpUrl, bearer(ALICE_1))
    const refused = await send(baseUrl, { path: '/mcp', headers: { ...MCP_HEADERS, ...bearer(ALICE_1) }, body: rpc('initialize', INITIALIZE_PARAMS) })
    assert.equal(refused.status, 429)
    const deleted = await send(baseUrl, { method: 'DELETE', path: '/mcp', headers: { ...bearer(ALICE_1), 'mcp-session-id': first.id } })
    assert.equal(deleted.status, 204)
    await initializeSession(mcpUrl, bearer(ALICE_1))
    assert.equal(app.mcp.status().sessions.streamableHttp, 1)
  })

  test('a dropped SSE stream gives its identity the slot back', async (t) => {
    const { app, baseUrl } = await startApp(t, { auth: TEAM, maxSessionsPerIdentity: 1 })
    const first = await openSse(t, baseUrl, bearer(BOB))
    first.disconnect()
    await waitFor('the dropped stream to be forgotten', () => app.mcp.status().sessions.sse === 0)
    await openSse(t, baseUrl, bearer(BOB))
  })

  test('with auth off, maxSessionsPerIdentity caps each client address', async (t) => {
    const { baseUrl } = await startApp(t, { auth: false, maxSessionsPerIdentity: 1 })
    await openSse(t, baseUrl, {})
    const refused = await send(baseUrl, { method: 'GET', path: '/sse', headers: {} })
    assert.equal(refused.status, 429)
    assert.match(refused.json.error.message, /the limit per caller/)
  })

  test('by default one caller may hold half the smallest session cap, leaving the rest for others', async (t) => {
    const { baseUrl } = await startApp(t, { auth: TEAM, sse: { maxSessions: 4 } })
    await openSse(t, baseUrl, bearer(ALICE_1))
    await openSse(t, baseUrl, bearer(ALICE_1))
    const refused = await send(baseUrl, { method: 'GET', path: '/sse', headers: bearer(ALICE_1) })
    assert.equal(refused.status, 429)
    await openSse(t, baseUrl, bearer(BOB))
    await openSse(t, baseUrl, bearer(BOB))
  })
})

describe('streamable.maxInFlight and maxSubscriptionsPerSession', () => {
  test('a stateful session with maxInFlight calls running gets 429 with Retry-After and the request id for one more', async (t) => {
    const { mcpUrl } = await startStatefulApp(t, { maxInFlight: 2 })
    const session = await initializeSession(mcpUrl)
    for (const key of ['one', 'two']) {
      void session.post(rpc('tools/call', { name: 'hold', arguments: { key: `busy-${key}` } }, key)).catch(() => {})
      await gates.wait(`started:busy-${key}`)
    }
    const refused = await session.post(rpc('ping', undefined, 'one-too-many'))
    assert.equal(refused.status, 429)
    assert.equal(refused.headers.get('retry-after'), '1')
    assert.equal(refused.json.id, 'one-too-many')
    assert.match(refused.json.error.message, /already has 2 requests running here, the limit per session/)
    assert.equal((await session.post({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'one' } })).status, 202)
    await waitUntil('the cancelled call to free its slot', async () => (await session.post(rpc('ping', undefined, 'again'))).status === 200)
  })

  test('a stateful session past maxSubscriptionsPerSession gets 429 and a JSON-RPC error; unsubscribing makes room', async (t) => {
    const { mcpUrl } = await startStatefulApp(t, {}, { maxSubscriptionsPerSession: 2 })
    const session = await initializeSession(mcpUrl)
    for (const uri of ['memo://1', 'memo://2', 'memo://2']) assert.equal((await session.post(rpc('resources/subscribe', { uri }))).status, 200)
    const refused = await session.post(rpc('resources/subscribe', { uri: 'memo://3' }, 'sub-3'))
    assert.equal(refused.status, 429)
    assert.equal(refused.json.id, 'sub-3')
    assert.match(refused.json.error.message, /^Too many subscriptions: this session already holds 2/)
    assert.equal((await session.post(rpc('resources/unsubscribe', { uri: 'memo://1' }))).status, 200)
    assert.equal((await session.post(rpc('resources/subscribe', { uri: 'memo://3' }))).status, 200)
  })

  test('an SSE session past maxSubscriptionsPerSession gets the JSON-RPC error on its stream', async (t) => {
    const { baseUrl } = await startApp(t, { maxSubscriptionsPerSession: 1, resources: statefulResources })
    const session = await openSse(t, baseUrl)
    await session.send(rpc('resources/subscribe', { uri: 'memo://1' }, 'first'))
    assert.deepEqual((await session.nextMessage()).result, {})
    await session.send(rpc('resources/subscribe', { uri: 'memo://2' }, 'second'))
    const refused = await session.nextMessage()
    assert.equal(refused.id, 'second')
    assert.match(refused.error.message, /^Too many subscriptions: this session already holds 1/)
  })
})

describe('sse.maxInFlight', () => {
  test('a session with maxInFlight requests running gets 429 with Retry-After and the request id for one more', async (t) => {
    const { baseUrl } = await startApp(t, { sse: { maxInFlight: 2 } })
    const session = await openSse(t, baseUrl)
    for (const id of ['slow-1', 'slow-2']) {
      assert.equal((await session.send(rpc('tools/call', { name: 'slow', arguments: { ms: 60_000 } }, id))).status, 202)
    }
    const refused = await session.send(rpc('ping', undefined, 'one-too-many'))
    assert.equal(refused.status, 429)
    assert.equal(refused.headers.get('retry-after'), '1')
    assert.equal(refused.json.id, 'one-too-many')
    assert.equal(refused.json.error.code, -32000)
    assert.match(refused.json.error.message, /already has 2 requests running, the limit per SSE session/)
  })

  test('a busy session still takes notifications, and a cancelled call frees its slot', async (t) => {
    const { baseUrl } = await startApp(t, { sse: { maxInFlight: 1 } })
    const session = await openSse(t, baseUrl)
    assert.equal((await session.send(rpc('tools/call', { name: 'slow', arguments: { ms: 60_000 } }, 'slow-1'))).status, 202)
    assert.equal((await session.send(rpc('ping', undefined, 'refused'))).status, 429)
    const cancel = await session.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'slow-1' } })
    assert.equal(cancel.status, 202)
    await waitFor('the cancelled call to free its slot', async () => (await session.send(rpc('ping', undefined, 'after'))).status === 202)
    assert.deepEqual(await session.nextMessage(), { jsonrpc: '2.0', id: 'after', result: {} })
  })

  test('once its answers have arrived, a session takes new requests again', async (t) => {
    const { baseUrl } = await startApp(t, { sse: { maxInFlight: 1 } })
    const session = await openSse(t, baseUrl)
    for (let round = 0; round < 5; round++) {
      assert.equal((await session.send(rpc('tools/call', { name: 'add', arguments: { a: round, b: 1 } }, round))).status, 202)
      const answer = await session.nextMessage()
      assert.equal(answer.id, round)
      assert.deepEqual(answer.result.structuredContent, { sum: round + 1 })
    }
  })
})

describe('limit options', () => {
  test('the limits are checked at register and a bad value names its path', async (t) => {
    const cases: Array<[Partial<McpPluginOptions>, RegExp]> = [
      [{ bodyLimit: 0 }, /\/bodyLimit must be >= 1/],
      [{ maxSessionsPerIdentity: 1.5 }, /\/maxSessionsPerIdentity must be integer/],
      [{ sse: { maxInFlight: 0 } }, /\/sse\/maxInFlight must be >= 1/]
    ]
    for (const [options, message] of cases) {
      const app = Fastify({ logger: false })
      t.after(async () => { await app.close() })
      await assert.rejects(async () => {
        await app.register(mcpPlugin, { auth: false, ...options } as McpPluginOptions)
        await app.ready()
      }, message, JSON.stringify(options))
    }
  })
})
