import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { MCP_HEADERS, rpc } from '../helpers/raw-http.js'
import { openSse } from '../helpers/sse-client.js'
import { startLoggedApp } from '../helpers/sse-app.js'
import { spawnServer } from '../helpers/spawn-server.js'
import { send } from './support.js'

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
