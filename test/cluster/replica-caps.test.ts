import { test } from 'node:test'
import assert from 'node:assert/strict'
import { post, rpc, INITIALIZE_PARAMS } from '../helpers/raw-http.js'
import { openSse } from '../helpers/sse-client.js'
import { AUTH, LIVENESS_MS, startCluster } from './support/cluster.js'
import { eventually, initializeOn } from './support/wire.js'

/** SSE streams replica A may hold (B keeps the default, 50). */
const SSE_CAP_A = 2
/** Stateful sessions the whole cluster may hold. */
const STATEFUL_CAP = 3

/** A refusal as docs/cluster.md promises it: 503, Retry-After, a JSON-RPC error a person can act on. */
function assertFull (response: { status: number, headers: Headers, json: any, text: string }, message: RegExp, id: unknown): void {
  assert.equal(response.status, 503, response.text)
  assert.equal(response.headers.get('retry-after'), '30')
  assert.equal(response.json.jsonrpc, '2.0')
  assert.equal(response.json.id, id)
  assert.equal(response.json.error.code, -32000)
  assert.match(response.json.error.message, message)
}

test('caps in a cluster: each replica caps the SSE streams it holds, stateful sessions are capped cluster-wide', async (t) => {
  const cluster = await startCluster(t, {
    replicas: 2,
    stateful: true,
    nginx: false,
    // One identity here: its own cap must not be the one that refuses.
    env: { MCP_STATEFUL_MAX_SESSIONS: String(STATEFUL_CAP), MCP_MAX_SESSIONS_PER_IDENTITY: '20' },
    envFor: (index) => index === 0 ? { MCP_SSE_MAX_SESSIONS: String(SSE_CAP_A) } : {}
  })
  const [a, b] = cluster.replicas

  await t.test('MCP_SSE_MAX_SESSIONS is per replica: A refuses one more stream with 503, B still accepts, A accepts again once one closed', async (t) => {
    // B's streams are not A's: with as many on B as A's cap, A still takes its own.
    const onB = []
    for (let index = 0; index < SSE_CAP_A; index++) onB.push(await openSse(t, b.baseUrl, AUTH))
    const held = []
    for (let index = 0; index < SSE_CAP_A; index++) held.push(await openSse(t, a.baseUrl, AUTH))
    const refused = await fetch(`${a.baseUrl}/sse`, { headers: AUTH })
    const text = await refused.text()
    assertFull({ status: refused.status, headers: refused.headers, json: JSON.parse(text), text }, new RegExp(`all ${SSE_CAP_A} SSE sessions are in use; retry later`), null)

    // A full A does not fill B: B takes one more, and the cluster counts every stream.
    onB.push(await openSse(t, b.baseUrl, AUTH))
    assert.equal((await onB[SSE_CAP_A].send(rpc('ping', undefined, 1), AUTH)).status, 202)
    assert.equal((await onB[SSE_CAP_A].nextMessage()).id, 1)
    const health = async (): Promise<{ sessions: number, clusterSessions: number }> => await (await fetch(`${b.baseUrl}/health/sse`)).json() as never
    assert.equal((await health()).sessions, SSE_CAP_A + 1)
    // The cluster's count is refreshed with the heartbeat.
    await eventually('the cluster to count every stream', async () => (await health()).clusterSessions === 2 * SSE_CAP_A + 1, LIVENESS_MS)

    // A's streams keep serving, and a place freed on A is taken again.
    assert.equal((await held[0].send(rpc('ping', undefined, 2), AUTH)).status, 202)
    assert.equal((await held[0].nextMessage()).id, 2)
    held[1].disconnect()
    await eventually('A to take a stream again', async () => {
      const again = await fetch(`${a.baseUrl}/sse`, { headers: AUTH })
      await again.body?.cancel()
      return again.status === 200
    })
  })

  await t.test('MCP_STATEFUL_MAX_SESSIONS is cluster-wide: sessions on A and B fill it, one more is refused on either, a DELETE frees a place', async (t) => {
    const sessions = [await initializeOn(t, a.baseUrl), await initializeOn(t, b.baseUrl), await initializeOn(t, a.baseUrl)]
    assert.equal(sessions.length, STATEFUL_CAP)
    for (const replica of [a, b]) {
      const refused = await post(`${replica.baseUrl}/mcp`, rpc('initialize', INITIALIZE_PARAMS, 'full'), AUTH)
      assertFull(refused, new RegExp(`all ${STATEFUL_CAP} sessions are in use; retry later, or end unused sessions with DELETE`), 'full')
      assert.equal(refused.headers.get('mcp-session-id'), null)
    }
    // The sessions in place keep working on either replica.
    assert.equal((await sessions[0].post(b.baseUrl, rpc('ping', undefined, 1))).status, 200)

    assert.equal((await sessions[1].delete(a.baseUrl)).status, 204)
    const next = await initializeOn(t, b.baseUrl)
    assert.equal((await next.post(a.baseUrl, rpc('ping', undefined, 2))).status, 200)
  })
})
