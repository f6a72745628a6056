import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { spawnServer } from '../helpers/spawn-server.js'
import { post, request, rpc, type RawResponse } from '../helpers/raw-http.js'
import { closed, exitWithin, TOKEN, TOOLS_FIXTURE, waitFor } from './support.js'

const AUTH = { authorization: `Bearer ${TOKEN}` }

/** Starts a `slow` call and resolves, with the call's answer still pending, once /health counts it in flight. */
async function slowCallInFlight (baseUrl: string, ms: number): Promise<{ answer: Promise<RawResponse> }> {
  const answer = post(`${baseUrl}/mcp`, rpc('tools/call', { name: 'slow', arguments: { ms } }, 'slow-1'), AUTH)
  answer.catch(() => {}) // awaited later; a rejection before then must not count as unhandled
  await waitFor('the slow call to be in flight', async () => (await request(`${baseUrl}/health`)).json.inFlight === 1 ? true : undefined)
  return { answer }
}

test('on SIGTERM, /health turns 503 at once, new MCP requests get 503, the call in flight completes, and the process exits 0', async (t) => {
  const server = await spawnServer(t, ['--tools', TOOLS_FIXTURE], { MCP_TOKEN: TOKEN })
  const { answer } = await slowCallInFlight(server.baseUrl, 2_000)
  const signalledAt = Date.now()
  server.child.kill('SIGTERM')

  const health = await waitFor('/health to answer 503', async () => {
    const response = await request(`${server.baseUrl}/health`)
    return response.status === 503 ? response : undefined
  }, 1_000)
  assert.equal(health.json.status, 'draining')
  assert.equal(health.headers.get('retry-after'), '5')
  const refused = await post(`${server.baseUrl}/mcp`, rpc('tools/call', { name: 'add', arguments: { a: 1, b: 2 } }), AUTH)
  assert.equal(refused.status, 503)
  assert.match(refused.json.error.message, /shutting down/)

  const answered = await answer
  assert.equal(answered.status, 200)
  assert.deepEqual(answered.json.result.content, [{ type: 'text', text: 'waited 2000 ms' }])
  assert.equal(await exitWithin(closed(server.child), 10_000), 0)
  assert.ok(Date.now() - signalledAt < 10_000)
  assert.match(server.stdout(), /"msg":"Stopped"/)
})

test('a connection that never sent a request does not hold the shutdown: the process exits 0 without waiting out the grace', async (t) => {
  const server = await spawnServer(t, [], { MCP_TOKEN: TOKEN })
  // As fetch leaves one after a client aborted a stream, or a browser opens one ahead.
  const { port } = new URL(server.baseUrl)
  const socket = connect(Number(port), '127.0.0.1')
  t.after(() => { socket.destroy() })
  await new Promise((resolve, reject) => { socket.once('connect', resolve).once('error', reject) })
  server.child.kill('SIGTERM')
  assert.equal(await exitWithin(closed(server.child), 15_000), 0, server.stdout())
  assert.match(server.stdout(), /"msg":"Stopped"/)
  assert.doesNotMatch(server.stdout(), /Shutdown did not finish in time/)
})

test('SIGINT drains and exits 0 like SIGTERM', async (t) => {
  const server = await spawnServer(t, [], { MCP_TOKEN: TOKEN })
  server.child.kill('SIGINT')
  assert.equal(await exitWithin(closed(server.child), 10_000), 0)
  assert.match(server.stdout(), /"signal":"SIGINT".*Draining/)
})

test('a call that outlasts MCP_SHUTDOWN_GRACE_MS is cut off and the process still exits 0', async (t) => {
  const server = await spawnServer(t, ['--tools', TOOLS_FIXTURE], { MCP_TOKEN: TOKEN, MCP_SHUTDOWN_GRACE_MS: '300' })
  const { answer } = await slowCallInFlight(server.baseUrl, 60_000)
  const signalledAt = Date.now()
  server.child.kill('SIGTERM')
  await assert.rejects(answer, /fetch failed/, 'the connection of the unfinished call is closed')
  assert.equal(await exitWithin(closed(server.child), 5_000), 0)
  assert.ok(Date.now() - signalledAt < 5_000)
  assert.match(server.stdout(), /Drain grace period ended with requests still in flight/)
})
