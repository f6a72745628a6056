import { test } from 'node:test'
import assert from 'node:assert/strict'
import { rpc } from '../helpers/raw-http.js'
import { openSse } from '../helpers/sse-client.js'
import { startCluster, sleep } from './support/cluster.js'
import { collect, eventually, initializeOn } from './support/wire.js'

/** Short, so that expiry can be watched; activity every IDLE_MS / 4 must keep a session alive however long. */
const IDLE_MS = 3_000
const CAP = 2
/** One identity per behaviour, so that the per-identity cap of one does not limit another. */
const TOKENS = ['cluster-idle-token-0123456789', 'cluster-delete-token-0123456789', 'cluster-cap-token-0123456789']
const auth = (index: number): Record<string, string> => ({ authorization: `Bearer ${TOKENS[index]}` })

test('session lifetimes across three replicas: idle expiry, DELETE, the per-identity cap', async (t) => {
  const cluster = await startCluster(t, {
    stateful: true,
    nginx: false,
    env: { MCP_TOKEN: TOKENS.join(','), MCP_STATEFUL_IDLE_TIMEOUT_MS: String(IDLE_MS), MCP_MAX_SESSIONS_PER_IDENTITY: String(CAP) }
  })
  const [a, b, c] = cluster.replicas

  await t.test('idle expiry is measured across the cluster: activity on B and C keeps a session started on A alive, silence ends it everywhere', async (t) => {
    const session = await initializeOn(t, a.baseUrl, auth(0))
    const stream = await session.get(a.baseUrl)
    assert.equal(stream.status, 200)
    const held = collect(stream.reader)
    // Twice the idle timeout, with A seeing nothing but the open stream.
    for (let round = 0; round < 8; round++) {
      await sleep(IDLE_MS / 4)
      const ping = await session.post(round % 2 === 0 ? b.baseUrl : c.baseUrl, rpc('ping', undefined, round))
      assert.equal(ping.status, 200, `round ${round}: ${ping.text}`)
    }
    assert.equal((await session.post(a.baseUrl, rpc('ping', undefined, 'alive'))).status, 200, 'still alive after twice the idle timeout')

    // Silence: the stream A holds ends when the session expires, and no replica knows the session any more.
    await held.ended
    for (const replica of [a, b, c]) {
      const gone = await session.post(replica.baseUrl, rpc('ping', undefined, 'gone'))
      assert.equal(gone.status, 404, `replica ${replica.index}`)
    }
    await a.waitForLog((line) => line.msg === 'Streamable HTTP session ended after idle timeout' && line.sessionId === session.id, 'the expiry, logged')
  })

  await t.test('DELETE on one replica ends the session everywhere: the GET stream on B and the call running on C end', async (t) => {
    const session = await initializeOn(t, a.baseUrl, auth(1))
    const stream = await session.get(b.baseUrl)
    assert.equal(stream.status, 200)
    const held = collect(stream.reader)
    const call = await session.postStream(c.baseUrl, rpc('tools/call', { name: 'ticker', arguments: { ticks: 1000, ms: 50 }, _meta: { progressToken: 'p' } }, 3))
    assert.equal(call.status, 200)
    const running = collect(call.reader)
    await eventually('the call to run', () => running.messages.length > 0)

    const deleted = await session.delete(a.baseUrl)
    assert.equal(deleted.status, 204)
    await held.ended
    await running.ended
    assert.ok(running.messages.every((entry) => entry.message.method === 'notifications/progress'), 'the call was stopped, not answered')
    for (const replica of [a, b, c]) {
      assert.equal((await session.post(replica.baseUrl, rpc('ping', undefined, 4))).status, 404, `replica ${replica.index}`)
    }
    const again = await session.get(c.baseUrl)
    assert.equal(again.status, 404)
    assert.equal((await session.delete(b.baseUrl)).status, 404)
  })

  await t.test('maxSessionsPerIdentity counts the identity\'s sessions on every replica, SSE and stateful together', async (t) => {
    const sse = await openSse(t, a.baseUrl, auth(2))
    const first = await initializeOn(t, b.baseUrl, auth(2))

    const refused = await fetch(`${c.baseUrl}/mcp`, {
      method: 'POST',
      headers: { ...auth(2), 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify(rpc('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'cap', version: '1' } }, 1))
    })
    assert.equal(refused.status, 429)
    assert.ok(refused.headers.has('retry-after'))
    const body = await refused.json() as { id: number, error: { message: string } }
    assert.equal(body.id, 1)
    assert.match(body.error.message, new RegExp(`already holds ${CAP} open sessions`))
    const sseRefused = await fetch(`${c.baseUrl}/sse`, { headers: auth(2) })
    assert.equal(sseRefused.status, 429)
    await sseRefused.body?.cancel()
    await c.waitForLog((line) => line.msg === 'New session refused: the caller holds maxSessionsPerIdentity sessions', 'the refusal, logged')

    // Ending one (on another replica than the one that counted) frees a place for the next.
    assert.equal((await first.delete(a.baseUrl)).status, 204)
    const second = await initializeOn(t, c.baseUrl, auth(2))
    assert.equal((await second.post(a.baseUrl, rpc('ping', undefined, 2))).status, 200)
    sse.disconnect()
    await eventually('the closed SSE stream to leave the count', async () => {
      const opened = await fetch(`${b.baseUrl}/sse`, { headers: auth(2) })
      await opened.body?.cancel()
      return opened.status === 200
    })
  })
})
