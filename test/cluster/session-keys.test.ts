import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { Redis } from 'ioredis'
import { rpc } from '../helpers/raw-http.js'
import { openSse } from '../helpers/sse-client.js'
import { BOARD_URI, OTHER_URI } from '../fixtures/cluster-tools.js'
import { AUTH, startCluster } from './support/cluster.js'
import { collect, eventually, initializeOn } from './support/wire.js'

const PREFIX = 'keys-test:'
const IDLE_MS = 3_000
/** How long the index of all sessions (and each session's own index) outlives the idle timeout, for the sweep. */
const SWEEP_MARGIN_MS = 60_000

/** One key under the prefix: its name, its time to live (ms, -1 without one) and everything it holds, as text. */
interface KeyEntry { name: string, ttlMs: number, contents: string[] }

/** Every key of the Redis, found with SCAN, with what it holds. */
async function scanKeys (redis: Redis): Promise<KeyEntry[]> {
  const entries: KeyEntry[] = []
  let cursor = '0'
  do {
    const [next, names] = await redis.scan(cursor, 'COUNT', 1000)
    cursor = next
    for (const name of names) {
      const type = await redis.type(name)
      if (type !== 'none') entries.push({ name, ttlMs: await redis.pttl(name), contents: await contentsOf(redis, name, type) })
    }
  } while (cursor !== '0')
  return entries.sort((x, y) => x.name.localeCompare(y.name))
}

async function contentsOf (redis: Redis, name: string, type: string): Promise<string[]> {
  switch (type) {
    case 'hash': return Object.entries(await redis.hgetall(name)).flat()
    case 'zset': return await redis.zrange(name, 0, -1)
    case 'set': return await redis.smembers(name)
    case 'list': return await redis.lrange(name, 0, -1)
    case 'string': return [await redis.get(name) ?? '']
    default: throw new Error(`unexpected key type ${type} of ${name}`)
  }
}

/** The keys that name the session, or hold it (as a member, a field or a value). */
function keysOf (entries: KeyEntry[], sessionId: string): string[] {
  return entries.filter((entry) => entry.name.includes(sessionId) || entry.contents.some((text) => text.includes(sessionId))).map((entry) => entry.name)
}

/** What stays whatever the sessions do: each replica's heartbeat key. */
const isHeartbeat = (name: string): boolean => name.startsWith(`${PREFIX}replica:`)

test('a session\'s keys and its shared event log go away with it: DELETE, idle expiry, a closed SSE stream', async (t) => {
  const cluster = await startCluster(t, {
    replicas: 2,
    stateful: true,
    nginx: false,
    env: { MCP_REDIS_KEY_PREFIX: PREFIX, MCP_STATEFUL_IDLE_TIMEOUT_MS: String(IDLE_MS) }
  })
  const [a, b] = cluster.replicas
  const redis = await cluster.redis.client()

  const baseline = await scanKeys(redis)
  assert.deepEqual(baseline.map((entry) => entry.name).filter((name) => !isHeartbeat(name)), [], 'an idle cluster holds nothing but its heartbeats')
  assert.equal(baseline.length, 2)

  /** Starts a stateful session on A, subscribes it on B, and runs a call (logged) on A while B holds its GET stream. */
  async function busySession (): Promise<string> {
    const session = await initializeOn(t, a.baseUrl, AUTH)
    for (const uri of [BOARD_URI, OTHER_URI]) {
      assert.equal((await session.post(b.baseUrl, rpc('resources/subscribe', { uri }, uri))).status, 200)
    }
    const stream = await session.get(b.baseUrl)
    assert.equal(stream.status, 200)
    const held = collect(stream.reader)
    const call = await session.post(a.baseUrl, rpc('tools/call', { name: 'touch', arguments: { uri: BOARD_URI } }, 'touch'))
    assert.equal(call.status, 200, call.text)
    await eventually('the update on the GET stream', () => held.messages.some((entry) => entry.message.method === 'notifications/resources/updated'))
    const keys = await scanKeys(redis)
    // Every key expires by itself (a cluster that stops leaves nothing behind), at most the sweep margin after idling.
    for (const entry of keys) assert.ok(entry.ttlMs > 0 && entry.ttlMs <= IDLE_MS + SWEEP_MARGIN_MS, `${entry.name} expires in ${entry.ttlMs} ms`)
    const holding = keysOf(keys, session.id)
    // Proof that the check finds a session's keys: its state, its log, the indexes and the subscriber sets hold it.
    for (const name of [`${PREFIX}s:${session.id}`, `${PREFIX}s:${session.id}:log`, `${PREFIX}sessions:http`,
      `${PREFIX}subscribers:${BOARD_URI}`, `${PREFIX}subscribers:${OTHER_URI}`]) {
      assert.ok(holding.includes(name), `${name} holds the session: ${holding.join(', ')}`)
    }
    assert.ok(holding.some((name) => name.startsWith(`${PREFIX}quota:http:`)), 'its caller\'s quota set holds it')
    return session.id
  }

  async function assertGone (sessionId: string): Promise<void> {
    const after = await scanKeys(redis)
    assert.deepEqual(keysOf(after, sessionId), [], 'no key names or holds the session')
    assert.deepEqual(after.map((entry) => entry.name).filter((name) => !isHeartbeat(name)), [], 'nothing is left but the heartbeats')
    assert.equal(after.length, baseline.length, 'as many keys as before the session')
  }

  await t.test('DELETE: the state, the log, the index entries and the subscriptions are deleted at once', async () => {
    const id = await busySession()
    const deleted = await fetch(`${b.baseUrl}/mcp`, { method: 'DELETE', headers: { ...AUTH, 'mcp-session-id': id, 'mcp-protocol-version': '2025-11-25' } })
    assert.equal(deleted.status, 204)
    await assertGone(id)
  })

  await t.test('idle expiry: once the session expired and the sweep ended it, nothing of it is left', async () => {
    const id = await busySession()
    await eventually('the expiry, logged', () => [a, b].some((replica) => replica.logs().some((line) =>
      line.msg === 'Streamable HTTP session ended after idle timeout' && line.sessionId === id)), IDLE_MS * 4)
    await assertGone(id)
  })

  await t.test('a legacy SSE stream that closes takes its directory entry and index entries along', async (t) => {
    const sse = await openSse(t, a.baseUrl, AUTH)
    assert.equal((await sse.send(rpc('resources/subscribe', { uri: BOARD_URI }, 1), AUTH)).status, 202)
    await sse.nextMessage()
    const held = keysOf(await scanKeys(redis), sse.sessionId)
    for (const name of [`${PREFIX}sse:${sse.sessionId}`, `${PREFIX}sessions:sse`]) assert.ok(held.includes(name), `${name} holds the stream: ${held.join(', ')}`)
    assert.ok(held.some((name) => name.startsWith(`${PREFIX}quota:sse:`)), 'its caller\'s quota set holds it')

    sse.disconnect()
    await eventually('the entries to go', async () => keysOf(await scanKeys(redis), sse.sessionId).length === 0)
    await assertGone(sse.sessionId)
  })
})
