import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { MCP_HEADERS, rpc } from '../helpers/raw-http.js'
import { openSse } from '../helpers/sse-client.js'
import { startLoggedApp } from '../helpers/sse-app.js'
import { spawnServer } from '../helpers/spawn-server.js'
import { send } from './support.js'
import { waitFor } from '../server/support.js'
import Fastify from 'fastify'
import mcpPlugin, { redactUrl, requestLogSerializer } from '../../plugin/index.js'

const SECRET = 'alice-very-secret-token-0123456789'
const GUESS = 'mallory-guessed-token-9876543210'

describe('tokens stay secret', () => {
  test('no log line ever contains a token, presented or configured, whatever the outcome', async (t) => {
    const { baseUrl, logs } = await startLoggedApp(t, { auth: { tokens: [{ token: SECRET, id: 'alice' }] } })
    const good = { ...MCP_HEADERS, authorization: `Bearer ${SECRET}` }
    const bad = { ...MCP_HEADERS, authorization: `Bearer ${GUESS}` }
    await send(baseUrl, { path: '/mcp', headers: good, body: rpc('tools/call', { name: 'fail', arguments: {} }) })
    await send(baseUrl, { path: '/mcp', headers: good, body: '{bad json' })
    await send(baseUrl, { path: '/mcp', headers: bad, body: rpc('ping') })
    await send(baseUrl, { path: '/mcp', headers: { ...MCP_HEADERS, authorization: `Basic ${GUESS}` }, body: rpc('ping') })
    const session = await openSse(t, baseUrl, { authorization: `Bearer ${SECRET}` })
    await session.send(rpc('ping'), { authorization: `Bearer ${SECRET}` })
    await session.nextMessage()
    const text = JSON.stringify(logs)
    assert.ok(logs.length > 5, 'the app logged')
    assert.doesNotMatch(text, new RegExp(`${SECRET}|${GUESS.slice(0, 20)}`))
  })

  test('auth failures are logged at authFailureLogLevel with the reason and the client address', async (t) => {
    const { baseUrl, logs } = await startLoggedApp(t, { auth: { tokens: [SECRET] }, authFailureLogLevel: 'info' })
    await send(baseUrl, { path: '/mcp', headers: { ...MCP_HEADERS, authorization: `Bearer ${GUESS}` }, body: rpc('ping') })
    await send(baseUrl, { path: '/mcp', headers: MCP_HEADERS, body: rpc('ping') })
    const refusals = logs.filter((line) => line.msg === 'MCP request refused by bearer auth')
    assert.deepEqual(refusals.map((line) => [line.level, line.reason, line.ip]), [[30, 'invalid', '127.0.0.1'], [30, 'missing', '127.0.0.1']])
  })

  test('the refusal log line leaves out the query string, where a misplaced token would be', async (t) => {
    const { baseUrl, logs } = await startLoggedApp(t, { auth: { tokens: [SECRET] } })
    await send(baseUrl, { path: `/mcp?access_token=${GUESS}`, headers: MCP_HEADERS, body: rpc('ping') })
    const refusal = logs.find((line) => line.msg === 'MCP request refused by bearer auth')
    assert.equal(refusal?.url, '/mcp')
    assert.doesNotMatch(JSON.stringify(refusal), new RegExp(GUESS))
  })

  test('node server logs no token a client put in the query string, in any line: request, refusal, not-found', { timeout: 30_000 }, async (t) => {
    const server = await spawnServer(t, [], { MCP_TOKEN: SECRET, LOG_LEVEL: 'debug' })
    const headers = { ...MCP_HEADERS, authorization: `Bearer ${SECRET}` }
    await send(server.baseUrl, { path: `/mcp?access_token=${SECRET}`, headers: MCP_HEADERS, body: rpc('ping') })
    await send(server.baseUrl, { path: `/mcp?token=${GUESS}&x`, headers, body: rpc('ping') })
    await send(server.baseUrl, { method: 'GET', path: `/nowhere?api_key=${SECRET}` })
    await send(server.baseUrl, { path: `/messages?sessionId=not-a-session&key=${SECRET}`, headers, body: rpc('ping') })
    await send(server.baseUrl, { path: `/mcp?${SECRET}`, headers, body: '{bad json' })
    const ours = new Set(['MCP request refused by bearer auth', 'MCP call', 'MCP request refused', 'request completed'])
    const lines = await waitFor('the last request in the log', () => {
      const parsed = server.stdout().split('\n').filter((line) => line !== '').map((line) => JSON.parse(line))
      return parsed.filter((line) => ours.has(line.msg)).length >= 5 ? parsed : undefined
    })
    // Fastify's request lines remain on the app's own routes (here the not-found route), redacted; the MCP routes
    // have one line per message instead, with paths only.
    const urls = lines.map((line) => line.req?.url).filter((url) => url !== undefined)
    assert.deepEqual(urls, ['/nowhere?[redacted]'])
    assert.ok(lines.some((line) => /^Route GET:\/nowhere\?\[redacted\] not found$/.test(line.msg)), 'the not-found line is there, redacted')
    assert.deepEqual(lines.filter((line) => line.msg === 'MCP request refused by bearer auth').map((line) => line.url), ['/mcp'])
    assert.deepEqual(lines.filter((line) => line.msg === 'MCP call').map((line) => [line.method, line.outcome]), [['ping', 'ok']])
    assert.deepEqual(lines.filter((line) => line.msg === 'MCP request refused').map((line) => [line.url, line.status]), [['/messages', 404], ['/mcp', 400]])
    assert.doesNotMatch(server.stdout() + server.stderr(), new RegExp(`${SECRET}|${GUESS}`))
  })

  test('the exported request serializer keeps tokens in the query string out of an app\'s own request log', async (t) => {
    const logs: string[] = []
    const app = Fastify({ logger: { level: 'info', stream: { write: (line: string) => { logs.push(line) } }, serializers: { req: requestLogSerializer } } })
    // Fastify's own request lines on the MCP routes too (logCalls off), as an app may choose.
    await app.register(mcpPlugin, { auth: { tokens: [SECRET] }, tools: [], telemetry: { logCalls: false } })
    await app.listen({ port: 0, host: '127.0.0.1' })
    t.after(async () => { await app.close() })
    const baseUrl = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
    await send(baseUrl, { path: `/mcp?access_token=${SECRET}`, headers: MCP_HEADERS, body: rpc('ping') })
    assert.ok(logs.some((line) => line.includes('"url":"/mcp?[redacted]"')))
    assert.doesNotMatch(logs.join(''), new RegExp(SECRET))
    assert.equal(redactUrl('/messages?sessionId=abc'), '/messages?sessionId=abc')
    assert.equal(redactUrl('/mcp?'), '/mcp')
    assert.equal(redactUrl('/mcp'), '/mcp')
  })

  test('no error response echoes a presented token, in its body or its headers', async (t) => {
    const { baseUrl } = await startLoggedApp(t, { auth: { tokens: [SECRET] } })
    for (const authorization of [`Bearer ${GUESS}`, `Basic ${GUESS}`, `Bearer ${GUESS} ${GUESS}`, `${GUESS}`]) {
      const response = await send(baseUrl, { path: '/mcp', headers: { ...MCP_HEADERS, authorization }, body: rpc('ping') })
      assert.equal(response.status, 401)
      assert.doesNotMatch(response.text + JSON.stringify(response.headers), new RegExp(GUESS), authorization)
    }
  })

  test('the standalone server\'s status tool reports the caller\'s identity and no token', async (t) => {
    const server = await spawnServer(t, [], { MCP_TOKEN: SECRET })
    const response = await send(server.baseUrl, {
      path: '/mcp',
      headers: { ...MCP_HEADERS, authorization: `Bearer ${SECRET}` },
      body: rpc('tools/call', { name: 'server_status', arguments: {} })
    })
    assert.match(response.json.result.structuredContent.caller, /^token-[0-9a-f]{8}$/)
    assert.doesNotMatch(response.text, new RegExp(SECRET))
    assert.doesNotMatch(server.stdout() + server.stderr(), new RegExp(SECRET))
  })
})
