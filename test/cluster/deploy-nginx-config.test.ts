import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { REPO_ROOT } from '../helpers/spawn-server.js'
import { post, rpc } from '../helpers/raw-http.js'
import { openSse } from '../helpers/sse-client.js'
import { startNginx, type Nginx } from './support/nginx.js'
import { CLUSTER_TOKEN, startReplicas } from './support/replicas.js'

const AUTH = { authorization: `Bearer ${CLUSTER_TOKEN}` }

/**
 * deploy/nginx/mcp-cluster.conf (what `docker compose --profile cluster` runs) with only what Docker provides
 * swapped out: the replica service's name becomes the test's replicas, the container port a loopback one.
 * Everything else (the proxy settings under test) is the file as it is.
 */
function deployedSite (listen: string, upstreams: readonly string[]): string {
  const config = readFileSync(join(REPO_ROOT, 'deploy', 'nginx', 'mcp-cluster.conf'), 'utf8')
  const swap = (text: string, pattern: RegExp, replacement: string): string => {
    assert.equal(text.match(new RegExp(pattern.source, 'gm'))?.length, 1, `the config has exactly one ${pattern.source}`)
    return text.replace(new RegExp(pattern.source, 'm'), replacement)
  }
  const withReplicas = swap(config, /^\s*server mcp-replica:3100 resolve;$/, upstreams.map((address) => `  server ${address};`).join('\n'))
  return swap(withReplicas, /^\s*listen 8080;$/, `  listen ${listen};`)
}

/** The replica that served each request, from the access log. */
function upstreamsServed (nginx: Nginx): string[] {
  return [...nginx.accessLog().matchAll(/ upstream=(\S+) /g)].map((match) => match[1])
}

test('the deployed nginx config spreads requests round-robin over the replicas', async (t) => {
  const replicas = await startReplicas(t, 3)
  const nginx = await startNginx(t, { upstreams: replicas.map((replica) => replica.port), site: deployedSite })
  for (let index = 0; index < 6; index++) {
    const response = await post(`${nginx.baseUrl}/mcp`, rpc('tools/call', { name: 'server_status', arguments: {} }), AUTH)
    assert.equal(response.status, 200, response.text)
  }
  const served = upstreamsServed(nginx)
  assert.equal(served.length, 6)
  assert.deepEqual(new Set(served), new Set(replicas.map((replica) => replica.address)))
  assert.deepEqual(served.slice(3), served.slice(0, 3), 'in turn, with no stickiness')
})

test('the deployed nginx config passes event streams through as they are written', async (t) => {
  const replicas = await startReplicas(t, 2)
  const nginx = await startNginx(t, { upstreams: replicas.map((replica) => replica.port), site: deployedSite })
  const session = await openSse(t, nginx.baseUrl, AUTH)
  // Without cluster mode only the replica holding the stream knows the session: find it.
  const statuses = await Promise.all(replicas.map(async (replica) =>
    (await post(`${replica.baseUrl}${session.endpoint}`, rpc('ping', undefined, 3), AUTH)).status))
  assert.deepEqual(statuses.sort(), [202, 404])
  const answer = await session.nextMessage()
  assert.deepEqual([answer.id, answer.result], [3, {}])
})

test('the deployed nginx config answers 502 once for a dead replica, then skips it, and never replays a request', async (t) => {
  const replicas = await startReplicas(t, 2)
  const nginx = await startNginx(t, { upstreams: replicas.map((replica) => replica.port), site: deployedSite })
  await replicas[0].stop('SIGKILL')
  const statuses: number[] = []
  for (let index = 0; index < 4; index++) {
    statuses.push((await post(`${nginx.baseUrl}/mcp`, rpc('tools/call', { name: 'server_status', arguments: {} }), AUTH)).status)
  }
  // nginx's default max_fails=1: the failed attempt takes the dead replica out of the rotation for 10 s.
  assert.deepEqual(statuses.slice().sort(), [200, 200, 200, 502])
  assert.ok(upstreamsServed(nginx).every((upstream) => !upstream.includes(',')), 'each request went to one replica only')
})
