import { test } from 'node:test'
import assert from 'node:assert/strict'
import { post, rpc, type RawResponse } from '../helpers/raw-http.js'
import { waitFor } from '../helpers/sse-client.js'
import { AUTH, startCluster } from './support/cluster.js'

/**
 * Rate limits in cluster mode (issue 17, "Also"): the counters are kept in Redis, so a caller that spreads its
 * requests over the replicas has one budget, not one per replica. Without Redis, requests pass rather than fail.
 */

async function ping (baseUrl: string): Promise<RawResponse> {
  return await post(`${baseUrl}/mcp`, rpc('ping'), AUTH)
}

test('a caller spreading its requests over two replicas has one budget, counted in Redis', async (t) => {
  const cluster = await startCluster(t, { replicas: 2, nginx: false, env: { MCP_RATE_LIMIT: '6' } })
  const [first, second] = cluster.replicas
  const statuses: number[] = []
  for (let i = 0; i < 6; i++) statuses.push((await ping((i % 2 === 0 ? first : second).baseUrl)).status)
  assert.deepEqual(statuses, [200, 200, 200, 200, 200, 200])
  for (const replica of [first, second]) {
    const refused = await ping(replica.baseUrl)
    assert.equal(refused.status, 429, `replica ${replica.index}: ${refused.text}`)
    assert.ok(Number(refused.headers.get('retry-after')) >= 1)
    assert.match(refused.json.error.message, /more than 6 requests in 60 s, its rate limit; retry in \d+ s/)
  }
  // The counter is in Redis, under the host's key prefix, and expires with its window.
  const redis = await cluster.redis.client()
  const keys = await redis.keys('mcp:rate-limit:*')
  assert.equal(keys.length, 1, keys.join(', '))
  assert.match(keys[0], /identity:/)
  const ttl = await redis.pttl(keys[0])
  assert.ok(ttl > 0 && ttl <= 60_000, `ttl ${ttl}`)
  assert.equal(await redis.get(keys[0]), '8')
  // /health is never limited.
  assert.equal((await fetch(`${first.baseUrl}/health`)).status, 200)
})

test('with Redis stopped, requests pass instead of being refused, and the replica says once that limits are off', async (t) => {
  const cluster = await startCluster(t, { replicas: 1, nginx: false, env: { MCP_RATE_LIMIT: '2' } })
  const [replica] = cluster.replicas
  assert.equal((await ping(replica.baseUrl)).status, 200)
  await cluster.redis.stop()
  // Stateless requests need nothing else from Redis: all of them are answered, over the budget too.
  const statuses: number[] = []
  for (let i = 0; i < 5; i++) statuses.push((await ping(replica.baseUrl)).status)
  assert.deepEqual(statuses, [200, 200, 200, 200, 200])
  const warnings = replica.logs().filter((line) => /Rate limits are not enforced/.test(line.msg))
  assert.equal(warnings.length, 1)
  assert.doesNotMatch(replica.output(), /cluster-test-token/)
  // Back (empty): once the replica has reconnected, the budget is counted again.
  await cluster.redis.start()
  await waitFor('the limit to be enforced again', async () => (await ping(replica.baseUrl)).status === 429, 15_000)
  assert.equal(replica.logs().filter((line) => /Rate limits are enforced again/.test(line.msg)).length, 1)
})
