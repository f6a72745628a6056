import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import type { Redis } from 'ioredis'
import { post, rpc } from '../helpers/raw-http.js'
import { openSse } from '../helpers/sse-client.js'
import { AUTH, LIVENESS_MS, startCluster } from './support/cluster.js'
import { callModern, eventually } from './support/wire.js'

const PREFIX = 'silence-test:'
/** How often each connection pings Redis (plugin/redis/redis-connection.ts, the default). */
const PING_INTERVAL_MS = 5_000
const CALLS_PER_ERA = 100
const WIDTH = 10

/** One command Redis received, as MONITOR reports it. */
interface Monitored { at: number, source: string, args: string[] }

/** Every command Redis receives from now on, from every client but the recorder itself. */
async function recordRedis (t: TestContext, client: Redis): Promise<{ commands: Monitored[], stop: () => void }> {
  const monitor = await client.monitor()
  const commands: Monitored[] = []
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    commands.push({ at: Date.now(), source, args: [args[0].toLowerCase(), ...args.slice(1)] })
  })
  const stop = (): void => { monitor.disconnect() }
  t.after(stop)
  return { commands, stop }
}

/**
 * What a replica sends on its own, whatever its clients do: the heartbeat (SET of its replica key for the
 * liveness window), the refresh of its SSE directory that goes with it (the clock, the sweep of the set of all
 * streams in a MULTI, the count), and the PING of each connection. Anything else is traffic some request caused.
 */
function backgroundKind (args: string[]): 'beat' | 'refresh' | 'ping' | undefined {
  const [name, key, ...rest] = args
  const number = /^\d+$/
  if (name === 'ping' && args.length === 1) return 'ping'
  if (name === 'set' && key.startsWith(`${PREFIX}replica:`) && rest.join(' ') === `1 PX ${LIVENESS_MS}`) return 'beat'
  if (['time', 'multi', 'exec'].includes(name) && args.length === 1) return 'refresh'
  if (name === 'zremrangebyscore' && key === `${PREFIX}sessions:sse` && rest[0] === '-inf' && number.test(rest[1]) && rest.length === 2) return 'refresh'
  if (name === 'zcount' && key === `${PREFIX}sessions:sse` && number.test(rest[0]) && rest[1] === '+inf' && rest.length === 2) return 'refresh'
  return undefined
}

/** Each heartbeat sends one SET and five refresh commands (TIME, MULTI, ZREMRANGEBYSCORE, EXEC; TIME, ZCOUNT). */
const REFRESH_PER_BEAT = 6 - 1

async function inBatches (count: number, width: number, job: (index: number) => Promise<void>): Promise<void> {
  let next = 0
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < count) await job(next++)
  }))
}

test('a stateless POST /mcp never touches Redis: a burst of calls in both eras adds no command to the replicas\' background traffic', async (t) => {
  const cluster = await startCluster(t, { replicas: 2, nginx: false, env: { MCP_REDIS_KEY_PREFIX: PREFIX } })
  const [a, b] = cluster.replicas
  const recorder = await recordRedis(t, await cluster.redis.client())
  const started = Date.now()

  // 2025-11-25 without initialize (each POST stands alone), and 2026-07-28 (no session by design), on both replicas.
  await inBatches(CALLS_PER_ERA, WIDTH, async (index) => {
    const text = `old-${index}`
    const response = await post(`${(index % 2 === 0 ? a : b).baseUrl}/mcp`, rpc('tools/call', { name: 'echo', arguments: { text } }, index),
      { ...AUTH, 'mcp-protocol-version': '2025-11-25' })
    assert.equal(response.status, 200, response.text)
    assert.deepEqual(response.json.result.content, [{ type: 'text', text }])
  })
  await inBatches(CALLS_PER_ERA, WIDTH, async (index) => {
    const text = `new-${index}`
    const response = await callModern((index % 2 === 0 ? a : b).baseUrl, 'echo', { text }, index)
    assert.equal(response.status, 200, response.text)
    assert.deepEqual(response.json.result.content, [{ type: 'text', text }])
  })
  // Long enough for every replica to beat at least once: proof that the recorder sees the replicas' traffic.
  const beaters = (): Set<string> => new Set(recorder.commands.filter((command) => backgroundKind(command.args) === 'beat').map((command) => command.args[1]))
  await eventually('a heartbeat of each replica', () => beaters().size === 2, LIVENESS_MS * 2)
  const elapsed = Date.now() - started
  const window = recorder.commands.slice()

  // The recorder would have seen a request's command: a new SSE stream writes its directory entry at once.
  const sse = await openSse(t, a.baseUrl, AUTH)
  await eventually('the SSE entry in the recording', () => recorder.commands.some((command) => command.args[0] === 'hset' && command.args[1] === `${PREFIX}sse:${sse.sessionId}`))
  recorder.stop()

  const caused = window.filter((command) => backgroundKind(command.args) === undefined)
  assert.deepEqual(caused.map((command) => `${command.source} ${command.args.join(' ')}`), [], 'no command but the background traffic')
  // The background commands themselves come at their own pace, not once per call.
  const bySource = new Map<string, Monitored[]>()
  for (const command of window) bySource.set(command.source, [...bySource.get(command.source) ?? [], command])
  for (const [source, commands] of bySource) {
    const count = (kind: string): number => commands.filter((command) => backgroundKind(command.args) === kind).length
    const beats = count('beat')
    assert.ok(count('refresh') <= REFRESH_PER_BEAT * (beats + 1), `${source}: ${count('refresh')} refresh commands for ${beats} heartbeats`)
    assert.ok(count('ping') <= Math.floor(elapsed / PING_INTERVAL_MS) + 1, `${source}: ${count('ping')} pings in ${elapsed} ms`)
  }
  t.diagnostic(`${2 * CALLS_PER_ERA} stateless calls; ${window.length} background commands from ${bySource.size} connections in ${elapsed} ms`)
})
