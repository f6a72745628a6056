import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { Redis } from 'ioredis'
import { post, rpc, INITIALIZE_PARAMS, type RawResponse } from '../helpers/raw-http.js'
import { openSse, type RawSseSession } from '../helpers/sse-client.js'
import { BOARD_URI } from '../fixtures/cluster-tools.js'
import { AUTH, LIVENESS_MS, startCluster, sleep } from './support/cluster.js'
import { CLUSTER_REQUEST_STATE_SECRET, CLUSTER_TOKEN, type Replica, type ReplicaLogLine } from './support/replicas.js'
import { callModern, collect, connectModern, eventually, initializeOn, type ClusterSession } from './support/wire.js'

const PREFIX = 'mcp-faults:'
const LOST = 'Redis connection lost: cluster features answer 503 until it is back'
const RESTORED = 'Redis connection restored'
const VERDICT_LOST = 'Could not send a verdict back to the replica that relayed a message'

/** An SSE session whose answers are gathered by request id, to check that every accepted message is answered once. */
interface WatchedSse {
  session: RawSseSession
  owner: Replica
  answers: Map<number | string, number>
  /** Requests that got 202: each is owed exactly one answer. */
  owed: Set<number | string>
  /** Requests whose relay was not confirmed (504): answered at most once. */
  unconfirmed: Set<number | string>
  /** What each POST got, for the failure messages. */
  statuses: Map<number | string, string>
}

function watchSse (session: RawSseSession, owner: Replica): WatchedSse {
  const watched: WatchedSse = { session, owner, answers: new Map(), owed: new Set(), unconfirmed: new Set(), statuses: new Map() }
  const reading = async (): Promise<void> => {
    try {
      for (;;) {
        const message = await session.nextMessage()
        if (message.id !== undefined && message.method === undefined) watched.answers.set(message.id, (watched.answers.get(message.id) ?? 0) + 1)
      }
    } catch { /* the stream ended */ }
  }
  reading().catch(() => {})
  return watched
}

async function postSse (watched: WatchedSse, via: Replica, id: number | string, body = rpc('tools/call', { name: 'echo', arguments: { text: String(id) } }, id)): Promise<RawResponse> {
  const response = await post(`${via.baseUrl}${watched.session.endpoint}`, body, AUTH)
  if (response.status === 202) watched.owed.add(id)
  if (response.status === 504) watched.unconfirmed.add(id)
  watched.statuses.set(id, `${response.status} via replica ${via.index}: ${response.text}`)
  return response
}

/**
 * Every accepted message (202) was answered exactly once, one whose relay was unconfirmed (504) at most once, and
 * nothing else was: a message refused with 503 ("retry") or 404 never ran.
 */
async function assertAnsweredOnce (sessions: WatchedSse[]): Promise<void> {
  await eventually('the answers to every accepted message', () => sessions.every((watched) => [...watched.owed].every((id) => watched.answers.has(id))), 10_000)
  await sleep(200)
  for (const watched of sessions) {
    for (const [id, count] of watched.answers) {
      assert.equal(count, 1, `answer ${String(id)} of a session on replica ${watched.owner.index} arrived once`)
      assert.ok(watched.owed.has(id) || watched.unconfirmed.has(id), `answer ${String(id)} was for a message that was accepted, not ${watched.statuses.get(id)}`)
    }
  }
}

/** A 503 for cluster work while Redis is away: Retry-After and a JSON-RPC error naming the store. */
function assertUnavailable (response: RawResponse, id: number | string | null, what: string): void {
  assert.equal(response.status, 503, `${what}: ${response.text}`)
  assert.equal(response.headers.get('retry-after'), '5', what)
  assert.equal(response.json.jsonrpc, '2.0', what)
  assert.equal(response.json.error.code, -32000, what)
  assert.equal(response.json.id, id, `${what}: the error names the request`)
  assert.match(response.json.error.message, /Redis.*unreachable.*retry/, what)
}

function countLogs (replica: Replica, message: string): number {
  return replica.logs().filter((line: ReplicaLogLine) => line.msg === message).length
}

async function valueOf (redis: Redis, key: string): Promise<unknown> {
  const type = await redis.type(key)
  switch (type) {
    case 'string': return await redis.get(key)
    case 'hash': return await redis.hgetall(key)
    case 'list': return await redis.lrange(key, 0, -1)
    case 'set': return await redis.smembers(key)
    case 'zset': return await redis.zrange(key, 0, -1, 'WITHSCORES')
    default: return `(${type})`
  }
}

/** Every key of the Redis and what it holds, as text. */
async function dumpRedis (redis: Redis): Promise<{ keys: string[], text: string }> {
  const keys = await redis.keys('*')
  let text = ''
  for (const key of keys) {
    text += `${key} ${JSON.stringify(await valueOf(redis, key))}\n`
  }
  return { keys, text }
}

/** What each replica's /health says of Redis (it answers 200 either way: local work goes on). */
async function redisStates (replicas: Replica[]): Promise<string[]> {
  return await Promise.all(replicas.map(async (replica) => {
    const health = await fetch(`${replica.baseUrl}/health`)
    assert.equal(health.status, 200, `replica ${replica.index} stays healthy`)
    return (await health.json() as { cluster: { redis: string } }).cluster.redis
  }))
}

async function stillServing (replicas: Replica[]): Promise<void> {
  for (const replica of replicas) {
    assert.ok(replica.running, `replica ${replica.index} is running`)
    const health = await fetch(`${replica.baseUrl}/health`)
    assert.equal(health.status, 200, `replica ${replica.index} is healthy`)
    await health.body?.cancel()
  }
}

test('faults: dead replicas, Redis lost under load and back empty; and what Redis gets to see', async (t) => {
  const cluster = await startCluster(t, { stateful: true, nginx: false, env: { MCP_REDIS_KEY_PREFIX: PREFIX } })
  const [a, b, c] = cluster.replicas
  const restarts: Array<Promise<void>> = []
  /** Every replica running, and connected to Redis. */
  const allUp = async (): Promise<void> => {
    await Promise.all(restarts.splice(0))
    await eventually('every replica connected to Redis', async () => (await redisStates(cluster.replicas)).every((state) => state === 'up'), 10_000)
  }

  await t.test('no token, Authorization header or secret reaches Redis: every command MONITOR saw during a workload, and every key after it', async (t) => {
    const admin = await cluster.redis.client()
    const monitor = await admin.monitor()
    const seen: string[][] = []
    monitor.on('monitor', (_time: string, args: string[]) => { seen.push(args) })
    t.after(() => { monitor.disconnect() })

    // Legacy SSE: the stream on A, messages through B and C, an elicitation answered through C.
    const sse = await openSse(t, a.baseUrl, AUTH)
    assert.equal((await post(`${b.baseUrl}${sse.endpoint}`, rpc('initialize', { ...INITIALIZE_PARAMS, capabilities: { elicitation: {} } }, 1), AUTH)).status, 202)
    await sse.nextMessage()
    assert.equal((await post(`${b.baseUrl}${sse.endpoint}`, rpc('tools/call', { name: 'greet', arguments: {} }, 2), AUTH)).status, 202)
    const question = await sse.nextMessage()
    assert.equal((await post(`${c.baseUrl}${sse.endpoint}`, { jsonrpc: '2.0', id: question.id, result: { action: 'accept', content: { name: 'Grace' } } }, AUTH)).status, 202)
    assert.equal((await sse.nextMessage()).id, 2)
    // A stateful session: subscribed, its stream on C, a change from A, an elicitation answered on A, then ended.
    const session = await initializeOn(t, b.baseUrl)
    assert.equal((await session.post(b.baseUrl, rpc('resources/subscribe', { uri: BOARD_URI }, 3))).status, 200)
    const stream = await session.get(c.baseUrl)
    const held = collect(stream.reader)
    const modern = await connectModern(t, a.baseUrl)
    await modern.callTool({ name: 'touch', arguments: { uri: BOARD_URI } })
    await eventually('the update on the stream', () => held.messages.length > 0)
    const call = await session.postStream(b.baseUrl, rpc('tools/call', { name: 'greet', arguments: {} }, 4))
    const asked = await call.reader.nextMessage()
    assert.equal((await session.post(a.baseUrl, { jsonrpc: '2.0', id: asked?.message.id, result: { action: 'accept', content: { name: 'Ada' } } })).status, 202)
    assert.equal((await call.reader.nextMessage())?.message.id, 4)
    const dump = await dumpRedis(admin)
    // However many sessions and streams: one subscriber connection per replica.
    const connections = (await admin.client('LIST') as string).split('\n').map((line) => /\bname=(\S*)/.exec(line)?.[1] ?? '').filter((name) => name.startsWith('mcp-host:'))
    assert.deepEqual(connections.sort(), ['commands', 'commands', 'commands', 'subscriber', 'subscriber', 'subscriber'].map((role) => `mcp-host:${role}`))
    assert.equal((await session.delete(a.baseUrl)).status, 204)
    await sleep(100)

    assert.ok(seen.length > 20, `MONITOR saw the workload (${seen.length} commands)`)
    assert.ok(dump.keys.length > 3, 'the workload left keys to inspect')
    const everything = `${seen.map((args) => args.join(' ')).join('\n')}\n${dump.text}`
    for (const secret of [CLUSTER_TOKEN, CLUSTER_REQUEST_STATE_SECRET]) assert.ok(!everything.includes(secret), 'a secret reached Redis')
    assert.doesNotMatch(everything, /bearer|authorization/i)
    assert.deepEqual(dump.keys.filter((key) => !key.startsWith(PREFIX)), [], 'every key is under the configured prefix')
    const channels = seen.filter(([command]) => /^(publish|subscribe|unsubscribe)$/i.test(command)).flatMap(([command, ...args]) => command.toLowerCase() === 'publish' ? [args[0]] : args)
    assert.ok(channels.length > 0)
    assert.deepEqual(channels.filter((channel) => !channel.startsWith(PREFIX)), [], 'every channel is under the configured prefix')
  })

  await t.test('a replica killed with SIGKILL: its SSE clients get 404 within the liveness window, everyone else goes on', async (t) => {
    const doomed = watchSse(await openSse(t, a.baseUrl, AUTH), a)
    const survivor = watchSse(await openSse(t, b.baseUrl, AUTH), b)
    const session = await initializeOn(t, a.baseUrl)
    const stream = await session.get(b.baseUrl)
    const held = collect(stream.reader)
    const counted = async (): Promise<number> => (await (await fetch(`${c.baseUrl}/health/sse`)).json() as { clusterSessions: number }).clusterSessions
    await eventually('both SSE sessions counted across the cluster', async () => await counted() >= 2)
    const before = await counted()

    await a.stop('SIGKILL')
    const killedAt = Date.now()
    const statuses: number[] = []
    await eventually('a 404 for the dead replica\'s session', async () => {
      const response = await postSse(doomed, statuses.length % 2 === 0 ? b : c, `after-${statuses.length}`)
      statuses.push(response.status)
      if (response.status === 404) assert.match(response.json.error.message, /Session not found.*GET \/sse/)
      return response.status === 404
    }, LIVENESS_MS)
    assert.deepEqual(statuses.filter((status) => status !== 404 && status !== 503), [], `no message for the dead stream was accepted: ${statuses.join(',')}`)
    assert.deepEqual(doomed.owed, new Set())
    const admin = await cluster.redis.client()
    assert.equal(await admin.exists(`${PREFIX}sse:${encodeURIComponent(doomed.session.sessionId)}`), 0, 'the stale record was removed')
    await eventually('the dead replica\'s streams to leave the cluster count', async () => await counted() === before - 1, LIVENESS_MS + 2_000)
    assert.ok(Date.now() - killedAt < LIVENESS_MS + 2_000)

    // The others: an SSE session held by B (messages through C), a stateful session (its stream on B) on B and C.
    assert.equal((await postSse(survivor, c, 'still')).status, 202)
    assert.equal((await session.post(c.baseUrl, rpc('tools/call', { name: 'announce', arguments: {} }, 5))).status, 200)
    await eventually('the change on the stateful stream', () => held.messages.some((entry) => entry.message.method === 'notifications/tools/list_changed'))
    await assertAnsweredOnce([survivor])
    restarts.push(a.start())
  })

  const outages = [
    { how: 'stopped', down: async () => { await cluster.redis.stop() }, up: async () => { await cluster.redis.start() } },
    { how: 'hung (SIGSTOP)', down: async () => { cluster.redis.pause() }, up: async () => { cluster.redis.resume() } }
  ]
  for (const outage of outages) {
    await t.test(`Redis ${outage.how} for 5 s under load: local work goes on, cross-replica work gets 503s, nothing is accepted unanswered, and all comes back`, async (t) => {
      await allUp()
      const sse = await Promise.all(cluster.replicas.map(async (owner) => watchSse(await openSse(t, owner.baseUrl, AUTH), owner)))
      const stateful = await Promise.all(cluster.replicas.map(async (replica) => await initializeOn(t, replica.baseUrl)))
      const lostBefore = cluster.replicas.map((replica) => countLogs(replica, LOST))
      const restoredBefore = cluster.replicas.map((replica) => countLogs(replica, RESTORED))
      const warningsBefore = cluster.replicas.map((replica) => replica.logs().filter((line) => line.level >= 40).length)

      type Phase = 'before' | 'down' | 'after'
      const load = { running: true, phase: 'before' as Phase }
      const outcomes: Array<{ phase: Phase, ended: Phase, kind: string, local: boolean, status: number, response: RawResponse, id: string }> = []
      const loops: Array<Promise<void>> = []
      for (const watched of sse) {
        loops.push((async () => {
          for (let index = 0; load.running; index++) {
            const via = cluster.replicas[index % 3]
            const at = load.phase
            const id = `${watched.owner.index}-${index}`
            const response = await postSse(watched, via, id)
            outcomes.push({ phase: at, ended: load.phase, kind: 'sse', local: via === watched.owner, status: response.status, response, id })
            await sleep(25)
          }
        })())
      }
      for (const [number, session] of stateful.entries()) {
        loops.push((async () => {
          for (let index = 0; load.running; index++) {
            const at = load.phase
            const id = `s${number}-${index}`
            const response = await session.post(cluster.replicas[index % 3].baseUrl, rpc('tools/call', { name: 'echo', arguments: { text: id } }, id))
            outcomes.push({ phase: at, ended: load.phase, kind: 'stateful', local: false, status: response.status, response, id })
            if (response.status === 200) assert.deepEqual(response.json.result.content, [{ type: 'text', text: id }])
            await sleep(25)
          }
        })())
      }
      for (const replica of cluster.replicas) {
        loops.push((async () => {
          for (let index = 0; load.running; index++) {
            const at = load.phase
            const id = `stateless-${replica.index}-${index}`
            const response = await callModern(replica.baseUrl, 'echo', { text: id }, id)
            outcomes.push({ phase: at, ended: load.phase, kind: 'stateless', local: true, status: response.status, response, id })
            if (response.status === 200) assert.deepEqual(response.json.result.content, [{ type: 'text', text: id }])
            await sleep(25)
          }
        })())
      }

      await sleep(1_000)
      load.phase = 'down'
      await outage.down()
      const downAt = Date.now()
      // A stopped Redis is noticed at once; a hung one when commands or the periodic ping time out.
      await eventually('every replica to report Redis down', async () => (await redisStates(cluster.replicas)).every((state) => state === 'down'), 5_000)
      await sleep(5_000 - (Date.now() - downAt))
      await outage.up()
      load.phase = 'after'
      // Back: SSE streams are announced again with the next heartbeat (after a stop Redis is empty, after a hang longer
      // than the liveness window their entries have expired); stateful sessions are gone after a stop.
      await eventually('relayed SSE messages accepted again', () => sse.every((watched) =>
        outcomes.filter((outcome) => outcome.kind === 'sse' && !outcome.local && outcome.phase === 'after' && outcome.id.startsWith(`${watched.owner.index}-`)).slice(-3).every((outcome) => outcome.status === 202) &&
        outcomes.filter((outcome) => outcome.kind === 'sse' && !outcome.local && outcome.phase === 'after' && outcome.id.startsWith(`${watched.owner.index}-`)).length >= 3), 15_000)
      load.running = false
      await Promise.all(loops)

      const of = (kind: string, at: Phase): typeof outcomes => outcomes.filter((outcome) => outcome.kind === kind && outcome.phase === at)
      assert.deepEqual(outcomes.filter((outcome) => outcome.kind === 'stateless' && outcome.status !== 200).map((outcome) => `${outcome.phase} ${outcome.status}`), [],
        'stateless calls never need Redis')
      assert.deepEqual(of('sse', 'before').filter((outcome) => outcome.ended === 'before' && outcome.status !== 202).map((outcome) => outcome.status), [])
      assert.ok(of('sse', 'down').some((outcome) => outcome.local && outcome.status === 202), 'a message posted to its stream\'s own replica is served while Redis is down')
      const refused = outcomes.filter((outcome) => outcome.status === 503)
      assert.ok(refused.some((outcome) => outcome.kind === 'sse'), 'relayed SSE messages were refused while Redis was down')
      assert.ok(refused.some((outcome) => outcome.kind === 'stateful'), 'stateful requests were refused while Redis was down')
      for (const outcome of refused) assertUnavailable(outcome.response, outcome.id, `${outcome.kind} ${outcome.id}`)
      // A relayed message whose verdict was lost with Redis is neither accepted nor refused: the client is told so.
      for (const outcome of outcomes.filter((outcome) => outcome.status === 504)) {
        assert.equal(outcome.kind, 'sse')
        assert.equal(outcome.response.json.id, outcome.id)
        assert.match(outcome.response.json.error.message, /did not confirm.*wait for its answer on the stream/)
      }
      assert.deepEqual(outcomes.filter((outcome) => ![200, 202, 404, 503, 504].includes(outcome.status)).map((outcome) => `${outcome.kind} ${outcome.phase} ${outcome.status}`), [])
      // A stateful session is either still served or gone (404), never anything else.
      for (const outcome of of('stateful', 'after')) assert.ok([200, 404, 503].includes(outcome.status), `${outcome.id}: ${outcome.status}`)
      await assertAnsweredOnce(sse)

      // Each transition once per replica; beyond that, only an owner whose verdict was lost says so (its poster got a
      // 504): nothing per refused request.
      let verdictsLost = 0
      for (const [index, replica] of cluster.replicas.entries()) {
        assert.equal(countLogs(replica, LOST) - lostBefore[index], 1, `replica ${index} logged the loss once`)
        assert.equal(countLogs(replica, RESTORED) - restoredBefore[index], 1, `replica ${index} logged the recovery once`)
        const warnings = replica.logs().filter((line) => line.level >= 40).slice(warningsBefore[index]).map((line) => line.msg)
        assert.deepEqual(warnings.filter((msg) => msg !== VERDICT_LOST), [LOST], `replica ${index} warned once, not per refused request`)
        verdictsLost += warnings.length - 1
      }
      assert.ok(verdictsLost <= outcomes.filter((outcome) => outcome.status === 504).length, `${verdictsLost} lost verdicts, each told to its poster with a 504`)
      await stillServing(cluster.replicas)
      assert.deepEqual(await redisStates(cluster.replicas), ['up', 'up', 'up'], 'every replica reports Redis up again')
    })
  }

  await t.test('Redis restarted empty: no replica crashes, and each session either keeps working or gets 404, never a 202 without an answer', async (t) => {
    await allUp()
    const sse = await Promise.all(cluster.replicas.map(async (owner) => watchSse(await openSse(t, owner.baseUrl, AUTH), owner)))
    const stateful: ClusterSession[] = await Promise.all(cluster.replicas.map(async (replica) => await initializeOn(t, replica.baseUrl)))
    for (const [index, session] of stateful.entries()) assert.equal((await session.get(cluster.replicas[(index + 1) % 3].baseUrl)).status, 200)
    await cluster.redis.restart()

    const results: string[] = []
    await eventually('every session working or gone', async () => {
      results.length = 0
      for (const [index, watched] of sse.entries()) {
        const response = await postSse(watched, cluster.replicas[(index + 1) % 3], `restart-${index}-${Date.now()}`)
        results.push(`sse ${response.status}`)
      }
      for (const [index, session] of stateful.entries()) {
        const response = await session.post(cluster.replicas[(index + 2) % 3].baseUrl, rpc('ping', undefined, index))
        results.push(`stateful ${response.status}`)
      }
      return results.every((result) => !result.endsWith(' 503'))
    }, 15_000)
    assert.deepEqual(results.filter((result) => !/^(sse (202|404)|stateful (200|404))$/.test(result)), [], results.join(', '))
    await assertAnsweredOnce(sse)
    await stillServing(cluster.replicas)
    // A client whose stateful session is gone starts a new one, on any replica, and it works everywhere.
    const fresh = await initializeOn(t, a.baseUrl)
    assert.equal((await fresh.post(c.baseUrl, rpc('ping', undefined, 9))).status, 200)
  })
})
