import { test, describe, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { assertInvalidAddArguments } from '../../helpers/tool-assertions.js'
import { fileURLToPath } from 'node:url'
import type { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { startApp, TOKEN, SECOND_TOKEN, AUTH_HEADER } from '../../helpers/app.js'
import { connectSse } from '../../helpers/clients.js'
import { post, request, rpc } from '../../helpers/raw-http.js'
import { spawnServer } from '../../helpers/spawn-server.js'
import { fixtureTools } from '../../helpers/fixture-tools.js'
import { openSse, sseHealth } from '../../helpers/sse-client.js'
import { startLoggedApp } from '../../helpers/sse-app.js'
import { keepProgressBeforeResults, recordArrivals } from '../../helpers/sse-sdk.js'

const SPAWN_TOKEN = 'legacy-sse-spawn-token-0123456789'
const TOOLS_MODULE = fileURLToPath(new URL('../../helpers/sse-tools.js', import.meta.url))
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

/** Where the SDK client connects: the plugin in a plain app (with and without a prefix), and `node server`. */
const targets: Array<{ name: string, connect: (t: TestContext) => Promise<Client> }> = [
  ...['', '/api/v1'].map((prefix) => ({
    name: prefix === '' ? 'the plugin' : `the plugin under prefix ${prefix}`,
    connect: async (t: TestContext) => await connectSse(t, `${(await startApp(t, {}, prefix)).baseUrl}/sse`, TOKEN)
  })),
  {
    name: 'the standalone server',
    connect: async (t: TestContext) => {
      const server = await spawnServer(t, ['--tools', TOOLS_MODULE], { MCP_TOKEN: SPAWN_TOKEN })
      return await connectSse(t, `${server.baseUrl}/sse`, SPAWN_TOKEN)
    }
  }
]

for (const target of targets) {
  describe(`SDK client over legacy SSE against ${target.name}`, () => {
    test('initializes and lists the tools', async (t) => {
      const client = await target.connect(t)
      assert.equal(client.getServerVersion()?.name, 'fastify-mcp-host')
      const { tools } = await client.listTools()
      assert.deepEqual(tools.map((tool) => tool.name), fixtureTools.map((tool) => tool.name))
    })

    test('calls a tool and gets structured content', async (t) => {
      const client = await target.connect(t)
      const result = await client.callTool({ name: 'add', arguments: { a: 2, b: 40 } })
      assert.deepEqual(result.structuredContent, { sum: 42 })
      assert.equal(result.isError, undefined)
    })

    test('invalid arguments come back as a tool error naming each failing path', async (t) => {
      const client = await target.connect(t)
      assertInvalidAddArguments(await client.callTool({ name: 'add', arguments: { a: 'two' } }))
    })

    test('an unknown tool is a JSON-RPC error -32602', async (t) => {
      const client = await target.connect(t)
      await assert.rejects(client.callTool({ name: 'nope', arguments: {} }), { code: -32602 })
    })

    test('every progress notification reaches the SDK transport, in order, before the result', async (t) => {
      const client = await target.connect(t)
      const arrivals = recordArrivals(client)
      await client.callTool({ name: 'countdown', arguments: { steps: 4 } }, undefined, { onprogress: () => {} })
      assert.equal(arrivals.length, 5)
      assert.deepEqual(arrivals.slice(0, 4), ['progress 1', 'progress 2', 'progress 3', 'progress 4'])
      assert.match(arrivals[4], /^result \d+$/)
    })

    test('progress notifications reach onprogress before the result', async (t) => {
      const client = await target.connect(t)
      keepProgressBeforeResults(client)
      const seen: number[] = []
      const result = await client.callTool({ name: 'countdown', arguments: { steps: 4 } }, undefined, {
        onprogress: (progress) => { seen.push(progress.progress) }
      })
      assert.deepEqual(seen, [1, 2, 3, 4])
      assert.deepEqual(result.content, [{ type: 'text', text: 'counted 4' }])
    })

    test('the tool sees the sse transport and the session id', async (t) => {
      const client = await target.connect(t)
      const result = await client.callTool({ name: 'whoami', arguments: {} })
      const who = result.structuredContent as { transport: string, sessionId: string, identity: string }
      assert.equal(who.transport, 'sse')
      assert.match(who.sessionId, UUID)
      assert.match(who.identity, /^token-[0-9a-f]{8}$/)
    })
  })
}

describe('the standalone server and SSE', () => {
  test('serves SSE by default: server_status over it reports the transport and the open session', async (t) => {
    const server = await spawnServer(t, [], { MCP_TOKEN: SPAWN_TOKEN })
    const client = await connectSse(t, `${server.baseUrl}/sse`, SPAWN_TOKEN)
    const result = await client.callTool({ name: 'server_status', arguments: {} })
    const status = result.structuredContent as { transport: string, sessions: { sse: number } }
    assert.equal(status.transport, 'sse')
    assert.equal(status.sessions.sse, 1)
  })

  test('--no-sse leaves /sse and /messages unrouted', async (t) => {
    const server = await spawnServer(t, ['--no-sse'], { MCP_TOKEN: SPAWN_TOKEN })
    const headers = { authorization: `Bearer ${SPAWN_TOKEN}` }
    assert.equal((await request(`${server.baseUrl}/sse`, { headers })).status, 404)
    assert.equal((await post(`${server.baseUrl}/messages?sessionId=x`, rpc('ping'), headers)).status, 404)
  })

  test('--sse and the MCP_SSE_* limits reach /health/sse', async (t) => {
    const server = await spawnServer(t, ['--sse'], { MCP_TOKEN: SPAWN_TOKEN, MCP_SSE_MAX_SESSIONS: '7', MCP_SSE_IDLE_TIMEOUT_MS: '60000' })
    const health = await sseHealth(server.baseUrl)
    assert.deepEqual(health, { sessions: 0, maxSessions: 7, idleTimeoutMs: 60000 })
  })
})

describe('legacy SSE on the wire', () => {
  test('HEAD /sse opens no session', async (t) => {
    const { app, baseUrl } = await startApp(t)
    const response = await request(`${baseUrl}/sse`, { method: 'HEAD', headers: AUTH_HEADER })
    assert.equal(response.status, 404)
    assert.equal(app.mcp.status().sessions.sse, 0)
  })

  test('GET /sse opens an event stream whose first event is the endpoint to POST to', async (t) => {
    const { baseUrl } = await startApp(t)
    const session = await openSse(t, baseUrl)
    assert.equal(session.response.headers.get('content-type'), 'text/event-stream')
    assert.equal(session.response.headers.get('cache-control'), 'no-cache, no-transform')
    assert.equal(session.response.headers.get('x-accel-buffering'), 'no')
    assert.equal(session.endpoint, `/messages?sessionId=${session.sessionId}`)
  })

  test('the endpoint honours the register prefix', async (t) => {
    const { baseUrl } = await startApp(t, {}, '/api/v1')
    const session = await openSse(t, baseUrl)
    assert.equal(session.endpoint, `/api/v1/messages?sessionId=${session.sessionId}`)
  })

  test('session ids are random UUIDs, different for every stream', async (t) => {
    const { baseUrl } = await startApp(t)
    const ids = await Promise.all([1, 2, 3].map(async () => (await openSse(t, baseUrl)).sessionId))
    for (const id of ids) assert.match(id, UUID)
    assert.equal(new Set(ids).size, 3)
  })

  test('a POSTed request gets 202 at once and its answer arrives as a message event', async (t) => {
    const { baseUrl } = await startApp(t)
    const session = await openSse(t, baseUrl)
    const accepted = await session.send(rpc('initialize', { protocolVersion: '2024-11-05', capabilities: {}, clientInfo: { name: 'raw', version: '1' } }, 7))
    assert.equal(accepted.status, 202)
    assert.equal(accepted.text, '')
    const answer = await session.nextMessage()
    assert.equal(answer.id, 7)
    assert.equal(answer.result.protocolVersion, '2024-11-05')
  })

  test('POST /messages/ with a trailing slash is served too', async (t) => {
    const { baseUrl } = await startApp(t)
    const session = await openSse(t, baseUrl)
    const accepted = await post(`${baseUrl}/messages/?sessionId=${session.sessionId}`, rpc('ping', undefined, 'slash'), AUTH_HEADER)
    assert.equal(accepted.status, 202)
    assert.deepEqual(await session.nextMessage(), { jsonrpc: '2.0', id: 'slash', result: {} })
  })

  test('a notification gets 202 and puts nothing on the stream', async (t) => {
    const { baseUrl } = await startApp(t)
    const session = await openSse(t, baseUrl)
    assert.equal((await session.send({ jsonrpc: '2.0', method: 'notifications/initialized' })).status, 202)
    await session.send(rpc('ping', undefined, 2))
    assert.equal((await session.nextMessage()).id, 2)
  })

  test('keep-alive comments arrive at the configured interval', async (t) => {
    const { baseUrl } = await startApp(t, { sse: { keepAliveMs: 30 } })
    const session = await openSse(t, baseUrl)
    const block = await session.reader.next()
    assert.deepEqual(block, { event: '', data: '', comments: ['keep-alive'] })
  })

  test('a missing sessionId gets 400 saying where to POST', async (t) => {
    const { baseUrl } = await startApp(t)
    const response = await post(`${baseUrl}/messages`, rpc('ping'), AUTH_HEADER)
    assert.equal(response.status, 400)
    assert.match(response.json.error.message, /missing "sessionId" query parameter/)
  })

  test('an unknown session gets 404 saying to open a new stream', async (t) => {
    const { baseUrl } = await startApp(t)
    const response = await post(`${baseUrl}/messages?sessionId=00000000-0000-4000-8000-000000000000`, rpc('ping'), AUTH_HEADER)
    assert.equal(response.status, 404)
    assert.match(response.json.error.message, /Session not found.*GET \/sse/)
  })

  test('an unparseable body gets 400 with a JSON-RPC parse error', async (t) => {
    const { baseUrl } = await startApp(t)
    const session = await openSse(t, baseUrl)
    const response = await session.send('{"jsonrpc": "2.0", "id": 1, "method": ')
    assert.equal(response.status, 400)
    assert.deepEqual(response.json, { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error: the request body is not valid JSON' } })
  })

  test('a JSON value that is not a JSON-RPC message gets 400 with -32600', async (t) => {
    const { baseUrl } = await startApp(t)
    const session = await openSse(t, baseUrl)
    const response = await session.send('{"jsonrpc":"1.0","id":1,"method":"ping"}')
    assert.equal(response.status, 400)
    assert.equal(response.json.error.code, -32600)
  })

  test('a body that is not application/json gets 415', async (t) => {
    const { baseUrl } = await startApp(t)
    const session = await openSse(t, baseUrl)
    const response = await session.send(JSON.stringify(rpc('ping')), { ...AUTH_HEADER, 'content-type': 'text/plain' })
    assert.equal(response.status, 415)
    assert.match(response.json.error.message, /Content-Type: application\/json/)
  })

  test('another identity cannot post to a session, as if it did not exist', async (t) => {
    const { baseUrl } = await startApp(t, { auth: { tokens: [{ token: TOKEN, id: 'alice' }, { token: SECOND_TOKEN, id: 'bob' }] } })
    const session = await openSse(t, baseUrl)
    const intruder = await session.send(rpc('ping'), { authorization: `Bearer ${SECOND_TOKEN}` })
    assert.equal(intruder.status, 404)
    assert.match(intruder.json.error.message, /Session not found/)
    assert.equal((await session.send(rpc('ping'))).status, 202)
  })

  test('both routes need the bearer token', async (t) => {
    const { baseUrl } = await startApp(t)
    const stream = await request(`${baseUrl}/sse`)
    assert.equal(stream.status, 401)
    assert.match(stream.headers.get('www-authenticate') ?? '', /^Bearer/)
    const session = await openSse(t, baseUrl)
    const message = await session.send(rpc('ping'), {})
    assert.equal(message.status, 401)
    assert.match(message.json.error.message, /Missing credentials/)
  })

  test('routes: { sse: false } leaves /sse, /messages and /health/sse unrouted', async (t) => {
    const { baseUrl } = await startApp(t, { routes: { sse: false } })
    assert.equal((await request(`${baseUrl}/sse`, { headers: AUTH_HEADER })).status, 404)
    assert.equal((await post(`${baseUrl}/messages?sessionId=x`, rpc('ping'), AUTH_HEADER)).status, 404)
    assert.equal((await request(`${baseUrl}/health/sse`)).status, 404)
  })

  test('the routes register in an app whose router ignores trailing slashes', async (t) => {
    const { baseUrl } = await startLoggedApp(t, {}, { routerOptions: { ignoreTrailingSlash: true } })
    const session = await openSse(t, baseUrl)
    assert.equal((await post(`${baseUrl}/messages/?sessionId=${session.sessionId}`, rpc('ping', undefined, 3), AUTH_HEADER)).status, 202)
    assert.equal((await session.nextMessage()).id, 3)
  })
})
