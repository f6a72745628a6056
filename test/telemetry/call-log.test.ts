import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawnServer } from '../helpers/spawn-server.js'
import { post, request, rpc } from '../helpers/raw-http.js'
import { closed, exitWithin, TOOLS_FIXTURE, waitFor } from '../server/support.js'
import { runServer } from '../helpers/spawn-server.js'
import { openSse } from '../helpers/sse-client.js'
import { getStream, initializeSession } from '../helpers/stateful-http.js'

const SECRET = 'alice-call-log-secret-token'
const MODERN_META = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} }

type Line = Record<string, any>

test('node server writes one line per MCP message with its fields, none of Fastify\'s there, and keeps them on other routes', { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-call-log-'))
  t.after(() => { rmSync(dir, { recursive: true, force: true }) })
  writeFileSync(join(dir, 'tokens.txt'), `alice ${SECRET}\n`)
  const server = await spawnServer(t, ['--tools', TOOLS_FIXTURE], { MCP_TOKEN_FILE: join(dir, 'tokens.txt') })
  const auth = { authorization: `Bearer ${SECRET}` }
  const mcp = `${server.baseUrl}/mcp?access_token=${SECRET}`

  await post(mcp, rpc('tools/call', { name: 'add', arguments: { a: 1, b: 2 } }, 11), { ...auth, 'mcp-protocol-version': '2025-06-18' })
  await post(mcp, rpc('tools/call', { name: 'add', arguments: { a: 1, b: 2 }, _meta: MODERN_META }, 12),
    { ...auth, 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'add' })
  await post(mcp, rpc('tools/call', { name: 'nope', arguments: {} }, 13), auth)
  await post(mcp, { jsonrpc: '2.0', method: 'notifications/initialized' }, auth)
  await post(mcp, rpc('resources/read', { uri: `memo://readme?key=${SECRET}` }, 14), auth)
  assert.equal((await request(`${server.baseUrl}/health`)).status, 200)
  // A legacy SSE session: one call over it, then dropped by its client.
  const sse = await openSse(t, server.baseUrl, auth)
  assert.equal((await sse.send(rpc('tools/call', { name: 'whoami', arguments: {} }, 15), auth)).status, 202)
  assert.equal((await sse.nextMessage()).id, 15)
  sse.disconnect()

  const lines = await waitFor('the stream\'s close line', () => {
    const parsed = server.stdout().split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Line)
    return parsed.some((line) => line.msg === 'MCP stream closed') ? parsed : undefined
  })
  const calls = lines.filter((line) => line.msg === 'MCP call')
  assert.deepEqual(calls.map((line) => line.rpcId), [11, 12, 13, 14, 15], 'one line per call')
  const [legacy, modern, unknown, read, overSse] = calls
  assert.deepEqual(
    { method: legacy.method, tool: legacy.tool, identity: legacy.identity, era: legacy.era, transport: legacy.transport, outcome: legacy.outcome, level: legacy.level },
    { method: 'tools/call', tool: 'add', identity: 'alice', era: '2025', transport: 'streamable-http', outcome: 'ok', level: 30 })
  assert.equal(typeof legacy.durationMs, 'number')
  assert.match(String(legacy.reqId), /^req-/)
  assert.equal(modern.era, '2026-07-28')
  assert.deepEqual([unknown.outcome, unknown.code], ['error', -32602])
  assert.equal(read.resource, 'memo://readme?[redacted]')
  assert.deepEqual([overSse.transport, overSse.tool, overSse.sessionId, overSse.identity, overSse.outcome], ['sse', 'whoami', sse.sessionId, 'alice', 'ok'])
  const message = lines.find((line) => line.msg === 'MCP message')
  assert.deepEqual([message?.method, message?.identity], ['notifications/initialized', 'alice'])

  const opened = lines.find((line) => line.msg === 'MCP stream opened')
  const closed = lines.find((line) => line.msg === 'MCP stream closed')
  assert.deepEqual([opened?.stream, opened?.identity, opened?.sessionId], ['sse', 'alice', sse.sessionId])
  assert.deepEqual([closed?.stream, closed?.sessionId, closed?.why], ['sse', opened?.sessionId, 'client-closed'])
  assert.equal(typeof closed?.durationMs, 'number')

  // Fastify's request lines: none for the MCP routes, both for the app's own (here /health).
  const requestLines = lines.filter((line) => line.msg === 'incoming request' || line.msg === 'request completed')
  const reqIds = new Set(requestLines.map((line) => line.reqId))
  assert.deepEqual(requestLines.filter((line) => line.msg === 'incoming request').map((line) => line.req.url), ['/health'])
  assert.equal(requestLines.length, 2)
  assert.ok(!calls.some((line) => reqIds.has(line.reqId)))
  assert.doesNotMatch(server.stdout() + server.stderr(), new RegExp(SECRET), 'no token in any line')
})

test('MCP_LOG_CALLS=0 keeps Fastify\'s request lines on the MCP routes and writes no call lines', { timeout: 30_000 }, async (t) => {
  const server = await spawnServer(t, ['--tools', TOOLS_FIXTURE], { MCP_TOKEN: SECRET, MCP_LOG_CALLS: '0' })
  await post(`${server.baseUrl}/mcp`, rpc('tools/call', { name: 'add', arguments: { a: 1, b: 2 } }), { authorization: `Bearer ${SECRET}` })
  const lines = await waitFor('the request line', () => {
    const parsed = server.stdout().split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Line)
    return parsed.some((line) => line.msg === 'request completed') ? parsed : undefined
  })
  assert.equal(lines.filter((line) => line.msg === 'MCP call').length, 0)
  assert.deepEqual(lines.filter((line) => line.msg === 'incoming request').map((line) => line.req.url), ['/mcp'])
})

test('a stateful session\'s GET stream logs its open and close lines, and its calls name the session', { timeout: 30_000 }, async (t) => {
  const server = await spawnServer(t, ['--tools', TOOLS_FIXTURE, '--stateful'], { MCP_TOKEN: SECRET })
  const auth = { authorization: `Bearer ${SECRET}` }
  const session = await initializeSession(`${server.baseUrl}/mcp`, auth)
  await session.post(rpc('tools/call', { name: 'add', arguments: { a: 1, b: 2 } }, 21))
  const stream = await getStream(t, `${server.baseUrl}/mcp`, session.id, undefined, auth)
  await waitFor('the stream\'s open line', () => server.stdout().includes('"MCP stream opened"') ? true : undefined)
  stream.disconnect()
  const lines = await waitFor('the stream\'s close line', () => {
    const parsed = server.stdout().split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Line)
    return parsed.some((line) => line.msg === 'MCP stream closed') ? parsed : undefined
  })
  const call = lines.find((line) => line.msg === 'MCP call' && line.rpcId === 21)
  assert.deepEqual([call?.sessionId, call?.transport], [session.id, 'streamable-http'])
  assert.match(String(call?.identity), /^token-/, 'MCP_TOKEN\'s identity, never the token')
  const opened = lines.find((line) => line.msg === 'MCP stream opened')
  const closedLine = lines.find((line) => line.msg === 'MCP stream closed')
  assert.deepEqual([opened?.stream, opened?.sessionId], ['stateful-stream', session.id])
  assert.deepEqual([closedLine?.stream, closedLine?.sessionId], ['stateful-stream', session.id])
  assert.equal(typeof closedLine?.why, 'string')
  assert.doesNotMatch(server.stdout(), new RegExp(SECRET))
})

test('over stdio the call lines go to stderr, stdout keeps only JSON-RPC', { timeout: 30_000 }, async (t) => {
  const run = runServer(t, ['--transport', 'stdio', '--tools', TOOLS_FIXTURE])
  const stdin = run.child.stdin!
  stdin.write(`${JSON.stringify(rpc('tools/call', { name: 'add', arguments: { a: 1, b: 2 } }, 1))}\n`)
  stdin.write(`${JSON.stringify(rpc('tools/call', { name: 'fail', arguments: {} }, 2))}\n`)
  await waitFor('two answers', () => run.stdout().split('\n').length > 2 ? true : undefined)
  stdin.end()
  assert.equal(await exitWithin(closed(run.child), 5_000), 0)
  const answers = run.stdout().split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Line)
  assert.deepEqual(answers.map((answer) => answer.id).sort(), [1, 2])
  const calls = run.stderr().split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Line).filter((line) => line.msg === 'MCP call')
  assert.deepEqual(calls.map((line) => [line.rpcId, line.tool, line.transport, line.outcome]).sort(), [[1, 'add', 'stdio', 'ok'], [2, 'fail', 'stdio', 'tool_error']])
})
