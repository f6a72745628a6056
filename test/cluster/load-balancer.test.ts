import { test } from 'node:test'
import assert from 'node:assert/strict'
import { post, request, rpc } from '../helpers/raw-http.js'
import { openSse } from '../helpers/sse-client.js'
import { startNginx } from './support/nginx.js'
import { CLUSTER_TOKEN, startReplicas } from './support/replicas.js'

const AUTH = { authorization: `Bearer ${CLUSTER_TOKEN}` }

/** Which replica served each of `count` requests made one after the other. */
async function servedBy (url: string, count: number): Promise<string[]> {
  const upstreams: string[] = []
  for (let index = 0; index < count; index++) {
    const response = await request(url)
    assert.equal(response.status, 200, response.text)
    upstreams.push(response.headers.get('x-upstream') ?? '')
  }
  return upstreams
}

test('nginx spreads requests round-robin over the replicas, with no stickiness', async (t) => {
  const replicas = await startReplicas(t, 3)
  const nginx = await startNginx(t, { upstreams: replicas.map((replica) => replica.port) })
  const order = await servedBy(`${nginx.baseUrl}/health`, 6)
  const addresses = replicas.map((replica) => replica.address)
  assert.deepEqual(new Set(order), new Set(addresses), 'every replica served')
  assert.deepEqual(order.slice(3), order.slice(0, 3), 'in turn')

  // The same client (one keep-alive connection, same headers) still goes round: nothing sticks.
  const call = rpc('tools/call', { name: 'server_status', arguments: {} })
  const seen = new Set<string>()
  for (let index = 0; index < 3; index++) {
    const response = await post(`${nginx.baseUrl}/mcp`, call, AUTH)
    assert.equal(response.status, 200, response.text)
    assert.equal(response.json.result.structuredContent.status, 'ok')
    seen.add(response.headers.get('x-upstream') ?? '')
  }
  assert.equal(seen.size, 3)
  assert.match(nginx.accessLog(), /"POST \/mcp HTTP\/1\.1" 200 upstream=127\.0\.0\.1:\d+ upstream_status=200/)
})

test('an event stream passes through nginx as it is written and stays on the replica that opened it', async (t) => {
  const replicas = await startReplicas(t, 2)
  const nginx = await startNginx(t, { upstreams: replicas.map((replica) => replica.port) })
  const session = await openSse(t, nginx.baseUrl, AUTH)
  const owner = replicas.find((replica) => replica.address === session.response.headers.get('x-upstream'))
  assert.ok(owner !== undefined, 'X-Upstream names the replica holding the stream')

  // Posted to the owner directly (no cluster mode yet): the answer comes back on the stream through nginx.
  const sent = await post(`${owner.baseUrl}${session.endpoint}`, rpc('tools/list', undefined, 7), AUTH)
  assert.equal(sent.status, 202)
  const answer = await session.nextMessage()
  assert.equal(answer.id, 7)
  assert.ok(Array.isArray(answer.result.tools))
})

test('a request to a dead replica fails with 502 and is never replayed on another', async (t) => {
  const replicas = await startReplicas(t, 2)
  const nginx = await startNginx(t, { upstreams: replicas.map((replica) => replica.port) })
  const dead = replicas[0]
  const exit = await dead.stop('SIGKILL')
  assert.equal(exit.signal, 'SIGKILL')

  const statuses: number[] = []
  for (let index = 0; index < 4; index++) {
    const response = await post(`${nginx.baseUrl}/mcp`, rpc('tools/call', { name: 'server_status', arguments: {} }), AUTH)
    statuses.push(response.status)
  }
  assert.deepEqual(statuses.filter((status) => status === 502).length, 2, `the dead replica's turns fail: ${statuses.join(',')}`)
  assert.deepEqual(statuses.filter((status) => status === 200).length, 2)
  const replayed = nginx.accessLog().split('\n').filter((line) => line.includes(`upstream=${dead.address}, `))
  assert.deepEqual(replayed, [], 'no request went to a second replica after the first failed')
})

test('a replica restarts on its port, and a rewritten upstream list takes effect on reload', async (t) => {
  const replicas = await startReplicas(t, 3)
  const nginx = await startNginx(t, { upstreams: replicas.map((replica) => replica.port) })

  await replicas[1].stop('SIGTERM')
  await replicas[1].start()
  assert.equal((await request(`${replicas[1].baseUrl}/health`)).status, 200, 'back on the same port')

  await nginx.setUpstreams([replicas[0].port, replicas[2].port])
  const order = await servedBy(`${nginx.baseUrl}/health`, 4)
  assert.deepEqual(new Set(order), new Set([replicas[0].address, replicas[2].address]))
})
