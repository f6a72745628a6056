import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import Fastify from 'fastify'
import mcpPlugin, { type McpPluginOptions } from '../../../plugin/index.js'
import { AUTH_HEADER, SECOND_TOKEN, TOKEN } from '../../helpers/app.js'
import { MCP_HEADERS, post, request, rpc, INITIALIZE_PARAMS } from '../../helpers/raw-http.js'
import { getStream, initializeSession, openStream, postStream, startStatefulApp, waitUntil } from '../../helpers/stateful-http.js'
import { gates, statefulTools } from '../../helpers/stateful-tools.js'

const SECOND_HEADER = { authorization: `Bearer ${SECOND_TOKEN}` }

describe('stateful Streamable HTTP: status codes', () => {
  test('initialize answers JSON with a visible-ASCII Mcp-Session-Id header', async (t) => {
    const { mcpUrl } = await startStatefulApp(t)
    const response = await post(mcpUrl, rpc('initialize', INITIALIZE_PARAMS, 0), AUTH_HEADER)
    assert.equal(response.status, 200)
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/)
    assert.match(response.headers.get('mcp-session-id') ?? '', /^[\x21-\x7e]+$/)
    assert.equal(response.json.result.protocolVersion, '2025-11-25')
  })

  test('a message without Mcp-Session-Id gets 400 naming the header', async (t) => {
    const { mcpUrl } = await startStatefulApp(t)
    await initializeSession(mcpUrl)
    const listed = await post(mcpUrl, rpc('tools/list', undefined, 7), AUTH_HEADER)
    assert.equal(listed.status, 400)
    assert.equal(listed.json.id, 7)
    assert.match(listed.json.error.message, /missing Mcp-Session-Id/)
    const notified = await post(mcpUrl, { jsonrpc: '2.0', method: 'notifications/initialized' }, AUTH_HEADER)
    assert.equal(notified.status, 400)
  })

  test('GET and DELETE without Mcp-Session-Id get 400', async (t) => {
    const { mcpUrl } = await startStatefulApp(t)
    const get = await request(mcpUrl, { headers: { ...AUTH_HEADER, accept: 'text/event-stream' } })
    assert.equal(get.status, 400)
    const del = await request(mcpUrl, { method: 'DELETE', headers: AUTH_HEADER })
    assert.equal(del.status, 400)
  })

  test('an unknown session id gets 404 on POST, GET and DELETE', async (t) => {
    const { mcpUrl } = await startStatefulApp(t)
    const headers = { ...AUTH_HEADER, 'mcp-session-id': 'no-such-session' }
    const posted = await post(mcpUrl, rpc('ping'), headers)
    assert.equal(posted.status, 404)
    assert.match(posted.json.error.message, /Session not found/)
    assert.equal((await request(mcpUrl, { headers: { ...headers, accept: 'text/event-stream' } })).status, 404)
    assert.equal((await request(mcpUrl, { method: 'DELETE', headers })).status, 404)
  })

  test('DELETE ends the session: 204, then 404 on POST, GET and DELETE', async (t) => {
    const { app, mcpUrl } = await startStatefulApp(t)
    const session = await initializeSession(mcpUrl)
    const headers = { ...AUTH_HEADER, 'mcp-session-id': session.id }
    assert.equal((await request(mcpUrl, { method: 'DELETE', headers })).status, 204)
    assert.equal(app.mcp.status().sessions.streamableHttp, 0)
    assert.equal((await session.post(rpc('ping'))).status, 404)
    assert.equal((await request(mcpUrl, { headers: { ...headers, accept: 'text/event-stream' } })).status, 404)
    assert.equal((await request(mcpUrl, { method: 'DELETE', headers })).status, 404)
  })

  test('initialize that carries a session id gets 400', async (t) => {
    const { mcpUrl } = await startStatefulApp(t)
    const session = await initializeSession(mcpUrl)
    const again = await session.post(rpc('initialize', INITIALIZE_PARAMS, 1))
    assert.equal(again.status, 400)
    assert.match(again.json.error.message, /initialize starts a new session/)
  })

  test('a GET that does not accept text/event-stream gets 406', async (t) => {
    const { mcpUrl } = await startStatefulApp(t)
    const session = await initializeSession(mcpUrl)
    const response = await request(mcpUrl, { headers: { ...AUTH_HEADER, accept: 'application/json', 'mcp-session-id': session.id } })
    assert.equal(response.status, 406)
  })

  test('a second GET stream for one session gets 409, and a new one opens once the first is dropped', async (t) => {
    const { mcpUrl } = await startStatefulApp(t)
    const session = await initializeSession(mcpUrl)
    const first = await getStream(t, mcpUrl, session.id)
    assert.equal(first.status, 200)
    await first.reader.nextEvent()
    const second = await request(mcpUrl, { headers: { ...AUTH_HEADER, accept: 'text/event-stream', 'mcp-session-id': session.id } })
    assert.equal(second.status, 409)
    assert.match(second.json.error.message, /Conflict/)
    first.disconnect()
    let third = 0
    await waitUntil('the dropped stream to be let go', async () => {
      const attempt = await getStream(t, mcpUrl, session.id)
      third = attempt.status
      if (third === 200) attempt.disconnect()
      return third === 200
    })
    assert.equal(third, 200)
  })

  test('notifications and client responses in a session get 202', async (t) => {
    const { mcpUrl } = await startStatefulApp(t)
    const session = await initializeSession(mcpUrl)
    const notified = await session.post({ jsonrpc: '2.0', method: 'notifications/roots/list_changed' })
    assert.equal(notified.status, 202)
    assert.equal(notified.text, '')
    const answered = await session.post({ jsonrpc: '2.0', id: 'nobody-asked', result: {} })
    assert.equal(answered.status, 202)
  })

  test('a session opened by one identity is 404 for another', async (t) => {
    const { mcpUrl } = await startStatefulApp(t, {}, { auth: { tokens: [TOKEN, SECOND_TOKEN] } })
    const session = await initializeSession(mcpUrl)
    const headers = { ...SECOND_HEADER, 'mcp-session-id': session.id }
    assert.equal((await post(mcpUrl, rpc('ping'), headers)).status, 404)
    assert.equal((await request(mcpUrl, { headers: { ...headers, accept: 'text/event-stream' } })).status, 404)
    assert.equal((await request(mcpUrl, { method: 'DELETE', headers })).status, 404)
    const owner = await session.post(rpc('ping', undefined, 3))
    assert.deepEqual(owner.json, { jsonrpc: '2.0', id: 3, result: {} })
  })
})

describe('stateful Streamable HTTP: streams', () => {
  test('a result ready at once is answered as JSON', async (t) => {
    const { mcpUrl } = await startStatefulApp(t)
    const session = await initializeSession(mcpUrl)
    const response = await session.post(rpc('tools/call', { name: 'add', arguments: { a: 1, b: 2 } }, 4))
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/)
    assert.deepEqual(response.json.result.structuredContent, { sum: 3 })
  })

  test('progress a handler reports after its JSON answer went out is dropped harmlessly', async (t) => {
    const { mcpUrl } = await startStatefulApp(t)
    const session = await initializeSession(mcpUrl)
    const response = await session.post(rpc('tools/call', { name: 'late', arguments: { key: 'stateful' }, _meta: { progressToken: 1 } }, 4))
    assert.deepEqual(response.json.result.content, [{ type: 'text', text: 'answered' }])
    assert.equal(await gates.wait('late:stateful'), 'ignored')
    assert.equal((await session.post(rpc('ping', undefined, 5))).status, 200)
  })

  test('a call that waits is answered on an event stream that starts with a priming event', async (t) => {
    const { mcpUrl } = await startStatefulApp(t)
    const session = await initializeSession(mcpUrl)
    const stream = await postStream(t, mcpUrl, session.id, rpc('tools/call', { name: 'slow', arguments: { ms: 20 } }, 5))
    assert.equal(stream.headers.get('content-type'), 'text/event-stream')
    const priming = await stream.reader.next()
    assert.match(priming?.id ?? '', /^\d+:\d+$/)
    assert.equal(priming?.retry, 1000)
    assert.equal(priming?.data, '')
    const answer = await stream.reader.rest()
    assert.equal(answer.length, 1)
    assert.equal(answer[0].message.id, 5)
    assert.match(answer[0].id ?? '', /^\d+:\d+$/)
  })

  test('the retry hint follows the retryMs option', async (t) => {
    const { mcpUrl } = await startStatefulApp(t, { retryMs: 2500 })
    const session = await initializeSession(mcpUrl)
    const stream = await getStream(t, mcpUrl, session.id)
    assert.equal((await stream.reader.next())?.retry, 2500)
  })

  test('the GET stream starts with a priming event and carries list changes', async (t) => {
    const { app, mcpUrl } = await startStatefulApp(t)
    const session = await initializeSession(mcpUrl)
    const stream = await getStream(t, mcpUrl, session.id)
    assert.equal(stream.headers.get('mcp-session-id'), session.id)
    const priming = await stream.reader.next()
    assert.match(priming?.id ?? '', /^0:\d+$/)
    assert.equal(priming?.data, '')
    app.mcp.notifyListChanged('prompts')
    const next = await stream.reader.nextMessage()
    assert.deepEqual(next?.message, { jsonrpc: '2.0', method: 'notifications/prompts/list_changed' })
    assert.match(next?.id ?? '', /^0:\d+$/)
  })

  test('a client\'s answer to an elicitation is a 202 POST in the session, and the call completes', async (t) => {
    const { mcpUrl } = await startStatefulApp(t)
    const session = await initializeSession(mcpUrl)
    const stream = await postStream(t, mcpUrl, session.id, rpc('tools/call', { name: 'ask_name', arguments: {} }, 6))
    const asked = (await stream.reader.nextMessage())?.message
    assert.equal(asked.method, 'elicitation/create')
    const answered = await session.post({ jsonrpc: '2.0', id: asked.id, result: { action: 'accept', content: { name: 'Raw' } } })
    assert.equal(answered.status, 202)
    const rest = await stream.reader.rest()
    assert.deepEqual(rest.map((event) => event.message.result.content), [[{ type: 'text', text: 'hello Raw' }]])
  })

  test('an idle GET stream carries keep-alive comments', async (t) => {
    const { mcpUrl } = await startStatefulApp(t, { keepAliveMs: 20 })
    const session = await initializeSession(mcpUrl)
    const stream = await getStream(t, mcpUrl, session.id)
    let block = await stream.reader.next()
    while (block !== undefined && block.comments.length === 0) block = await stream.reader.next()
    assert.deepEqual(block?.comments, ['keep-alive'])
  })

  test('a POST stream carries keep-alive comments while its call runs', async (t) => {
    const { mcpUrl } = await startStatefulApp(t, { keepAliveMs: 20 })
    const session = await initializeSession(mcpUrl)
    const stream = await postStream(t, mcpUrl, session.id, rpc('tools/call', { name: 'hold', arguments: { key: 'keep-alive' } }))
    let block = await stream.reader.next()
    while (block !== undefined && block.comments.length === 0) block = await stream.reader.next()
    assert.deepEqual(block?.comments, ['keep-alive'])
    await session.post({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1 } })
    await gates.wait('aborted:keep-alive')
  })
})

describe('stateless Streamable HTTP: streams', () => {
  test('progress a handler reports after its JSON answer went out is dropped harmlessly', async (t) => {
    const { mcpUrl } = await startStatefulApp(t, { sessions: false })
    const body = rpc('tools/call', { name: 'late', arguments: { key: 'stateless' }, _meta: { progressToken: 1 } }, 4)
    const response = await post(mcpUrl, body, AUTH_HEADER)
    assert.deepEqual(response.json.result.content, [{ type: 'text', text: 'answered' }])
    assert.equal(await gates.wait('late:stateless'), 'ignored')
  })

  test('a stateless answer stream carries keep-alive comments while its call runs', async (t) => {
    const { mcpUrl } = await startStatefulApp(t, { sessions: false, keepAliveMs: 20 })
    const stream = await openStream(t, mcpUrl, {
      method: 'POST',
      headers: { ...MCP_HEADERS, ...AUTH_HEADER },
      body: JSON.stringify(rpc('tools/call', { name: 'phased', arguments: { gate: 'stateless-keep-alive' }, _meta: { progressToken: 1 } }, 2))
    })
    assert.equal((await stream.reader.nextMessage())?.message.params.progress, 1)
    let block = await stream.reader.next()
    while (block !== undefined && block.comments.length === 0) block = await stream.reader.next()
    assert.deepEqual(block?.comments, ['keep-alive'])
    gates.open('stateless-keep-alive')
    assert.equal((await stream.reader.rest()).at(-1)?.message.id, 2)
  })
})

describe('stateful Streamable HTTP: CORS', () => {
  test('responses expose Mcp-Session-Id, merged with the host\'s own CORS headers, streams included', async (t) => {
    const app = Fastify({ logger: false })
    // What a CORS plugin does for the host: allow the origin and expose its own headers, on every request.
    app.addHook('onRequest', async function hostCors (request, reply) {
      if (request.headers.origin === undefined) return
      reply.header('access-control-allow-origin', request.headers.origin)
      reply.header('access-control-expose-headers', 'X-Request-Id')
    })
    await app.register(mcpPlugin, {
      auth: { tokens: [TOKEN] }, tools: statefulTools, streamable: { sessions: true }, allowedOrigins: ['http://app.example']
    } as McpPluginOptions)
    await app.listen({ port: 0, host: '127.0.0.1' })
    t.after(async () => { await app.close() })
    const mcpUrl = `http://127.0.0.1:${(app.server.address() as { port: number }).port}/mcp`
    const origin = { ...AUTH_HEADER, origin: 'http://app.example' }

    const initialized = await post(mcpUrl, rpc('initialize', INITIALIZE_PARAMS, 0), origin)
    assert.equal(initialized.status, 200)
    assert.equal(initialized.headers.get('access-control-allow-origin'), 'http://app.example')
    assert.equal(initialized.headers.get('access-control-expose-headers'), 'X-Request-Id, Mcp-Session-Id')
    const sessionId = initialized.headers.get('mcp-session-id') ?? ''
    const stream = await getStream(t, mcpUrl, sessionId, undefined, origin)
    assert.equal(stream.headers.get('access-control-expose-headers'), 'X-Request-Id, Mcp-Session-Id')
    const refused = await post(mcpUrl, rpc('ping'), { ...origin, 'mcp-session-id': 'unknown' })
    assert.equal(refused.status, 404)
    assert.equal(refused.headers.get('access-control-expose-headers'), 'X-Request-Id, Mcp-Session-Id')
  })

  test('without a host CORS setup the session header is still exposed', async (t) => {
    const { mcpUrl } = await startStatefulApp(t)
    const response = await post(mcpUrl, rpc('initialize', INITIALIZE_PARAMS, 0), AUTH_HEADER)
    assert.equal(response.headers.get('access-control-expose-headers'), 'Mcp-Session-Id')
  })
})
