import { ServerChild } from '../lib/processes.js'
import { findRedisServer, REDIS_INSTALL_COMMAND, startBenchRedis, type BenchRedis } from '../lib/redis-server.js'
import { ratio, type Row, type Section } from '../lib/report.js'
import { fmt, fmtInt, kb, mib } from '../lib/stats.js'
import type { Settings } from './context.js'
import { measureChurn, type ChurnFigures } from './m6-churn.js'
import { M6_PROFILE_SUMMARY, m6Profiling, profileFlags, summarizeReplicaProfiles } from './m6-profile.js'
import { measureRelay, type RelayFigures } from './m6-relay.js'
import { measureStatelessOnOff, type ThroughputFigures } from './m6-throughput.js'

const TITLE = 'M6 cluster mode (2 replicas, one Redis)'
/** The same on every replica (cluster mode requires one), and on both sides of the on/off comparison. */
const REQUEST_STATE_SECRET = 'bench-request-state-secret-0123456789'

/** BENCH_REDIS_CORE: Redis beside the replicas (`server`) or on the load generator's core (`load`, the default). */
function redisCore (): 'server' | 'load' {
  const core = process.env.BENCH_REDIS_CORE ?? 'load'
  if (core !== 'server' && core !== 'load') throw new Error(`BENCH_REDIS_CORE must be server or load, not "${core}"`)
  return core
}

/** M6 when the machine has no redis-server: reported as not run, with what to install. */
function notRun (): Section {
  return {
    title: TITLE,
    rows: [{ measure: 'M6 cluster mode (redis-server not found on PATH)', ours: 'not run', ceiling: '', ratio: '', target: `install: ${REDIS_INSTALL_COMMAND}`, pass: undefined, notRun: true }],
    notes: [`M6 needs \`redis-server\` (Redis 7; Debian: \`${REDIS_INSTALL_COMMAND}\`). The other measures do not.`]
  }
}

/**
 * M6: cluster mode. Its own `redis-server` (loopback, free port, persistence off) and two `ours` replicas on it:
 * legacy SSE round trips posted to the replica holding the stream and to the other one (relayed), server and Redis
 * CPU per relayed message, the M4 churn across the replicas (memory, Redis keys back to baseline); then fresh
 * processes for stateless throughput with cluster mode on and off.
 */
export async function measureM6 (settings: Settings, log: (line: string) => void): Promise<Section> {
  const program = findRedisServer()
  if (program === undefined) {
    log(`M6 not run: redis-server not found on PATH (${REDIS_INSTALL_COMMAND})`)
    return notRun()
  }
  const children: ServerChild[] = []
  let redis: BenchRedis | undefined
  const profiles: Array<{ title: string, file: string }> = []
  const start = async (name: string, cluster: boolean, profile = false): Promise<ServerChild> => {
    const env = { BENCH_REQUEST_STATE_SECRET: REQUEST_STATE_SECRET, BENCH_REDIS_URL: cluster ? (redis as BenchRedis).url : undefined }
    const prof = profile ? profileFlags(name) : undefined
    if (prof !== undefined) profiles.push({ title: name, file: prof.file })
    const child = await ServerChild.start(name, 'ours', prof?.flags ?? [], env)
    children.push(child)
    return child
  }
  const stop = async (some: ServerChild[]): Promise<void> => {
    // Under --cpu-prof a replica needs a moment to write its profile as it exits.
    await Promise.all(some.map(async (child) => { await child.stop(profiles.length > 0 ? 15_000 : 5_000) }))
    for (const child of some) children.splice(children.indexOf(child), 1)
  }
  try {
    redis = await startBenchRedis(program, redisCore())
    log(`M6 redis-server at ${redis.url}, on the ${redisCore()} core`)
    const replicas = [await start('replica A', true, m6Profiling()), await start('replica B', true, m6Profiling())]
    const single = await start('one process, cluster off', false)
    const baselineKeys = await redis.keyCount()
    const relay = await measureRelay(replicas, single, redis, settings)
    log(`M6 SSE round trip p50: owner ${fmt(relay.direct.p50, 3)} ms, relayed ${fmt(relay.relayed.p50, 3)} ms; CPU per relayed message: relaying ${fmt(relay.cpuRelayed.relaying, 1)} µs, owner ${fmt(relay.cpuRelayed.owner, 1)} µs`)
    await stop([single])
    const churn = await measureChurn(replicas, redis, baselineKeys, settings)
    log(`M6 churn: ${fmtInt(churn.run.sessions / churn.run.seconds)} sessions/s; Redis keys ${churn.baselineKeys} → ${churn.afterKeys.value}`)
    await stop(replicas)
    if (profiles.length > 0) {
      summarizeReplicaProfiles(profiles.map((p, i) => ({ ...p, title: `${p.title} (${i === 0 ? 'relaying' : 'owner'}), relayed CPU pass` })), relay.relayedWindow)
      log(`M6 profiles of the relayed CPU pass summarised in ${M6_PROFILE_SUMMARY}`)
    }
    const keysAfterStop = await redis.keyCount()
    const stateless = await measureStatelessOnOff(start, redis, settings, log)
    log(`M6 stateless: cluster on ${fmtInt(stateless.on.reqPerSec)} req/s, off ${fmtInt(stateless.off.reqPerSec)} req/s`)
    return report(settings, relay, churn, stateless, keysAfterStop)
  } finally {
    await stop([...children])
    await redis?.stop()
  }
}

/** `hmget 1.00, publish 2.00`: commands per message, the heartbeat's few spread over the pass included. */
function describeCommands (commands: Array<[string, number]>): string {
  const shown = commands.filter(([, perMessage]) => perMessage >= 0.005)
  return shown.length === 0 ? 'none' : shown.map(([name, perMessage]) => `${name} ${fmt(perMessage, 2)}`).join(', ')
}

const signed = (d: number): string => `${d >= 0 ? '+' : ''}${fmt(d * 100, 1)}%`
const drift = (after: number, base: number): number => (after - base) / base

function report (settings: Settings, relay: RelayFigures, churn: ChurnFigures, stateless: ThroughputFigures, keysAfterStop: number): Section {
  const { direct, relayed, single, cpuDirect, cpuRelayed, cpuSingle } = relay
  const { on, off } = stateless
  const apart = on.reqPerSec / off.reqPerSec
  const n = settings.churn.toLocaleString('en-US')
  const memoryCell = (pick: (m: ChurnFigures['replicas'][number]['base']) => number): string =>
    churn.replicas.map((r) => `${r.name.replace('replica ', '')}: ${mib(pick(r.after))} (${signed(drift(pick(r.after), pick(r.base)))})`).join(' · ')
  const memoryPass = (pick: (m: ChurnFigures['replicas'][number]['base']) => number): boolean =>
    churn.replicas.every((r) => Math.abs(drift(pick(r.after), pick(r.base))) <= 0.05)
  const rows: Row[] = [
    { measure: 'M6 SSE round trip posted to a non-owner replica (relayed) vs to the owner, p50 (ms)', ours: fmt(relayed.p50, 3), ceiling: fmt(direct.p50, 3), ratio: ratio(relayed.p50, direct.p50), target: '≤ 2× the owner\'s p50', pass: relayed.p50 <= 2 * direct.p50 },
    { measure: 'M6 SSE round trip relayed vs owner, p99 (ms)', ours: fmt(relayed.p99, 3), ceiling: fmt(direct.p99, 3), ratio: ratio(relayed.p99, direct.p99), target: '', pass: undefined },
    { measure: 'M6 POST /messages → 202, relayed vs owner, p50 / p99 (ms)', ours: `${fmt(relayed.acceptedP50, 3)} / ${fmt(relayed.acceptedP99, 3)}`, ceiling: `${fmt(direct.acceptedP50, 3)} / ${fmt(direct.acceptedP99, 3)}`, ratio: ratio(relayed.acceptedP50, direct.acceptedP50), target: '(report; ratio of p50)', pass: undefined },
    { measure: 'M6 SSE round trip to the owner, cluster mode vs one process without it, p50 (ms)', ours: fmt(direct.p50, 3), ceiling: fmt(single.p50, 3), ratio: ratio(direct.p50, single.p50), target: '', pass: undefined },
    { measure: 'M6 server CPU per message posted to the owner, cluster mode vs one process without it (µs)', ours: fmt(cpuDirect.owner, 1), ceiling: fmt(cpuSingle.owner, 1), ratio: ratio(cpuDirect.owner, cpuSingle.owner), target: '', pass: undefined },
    { measure: 'M6 server CPU per relayed message, relaying replica (µs); ceiling: owner per message posted to it', ours: fmt(cpuRelayed.relaying, 1), ceiling: fmt(cpuDirect.owner, 1), ratio: ratio(cpuRelayed.relaying, cpuDirect.owner), target: '', pass: undefined },
    { measure: 'M6 server CPU per relayed message, owner replica (µs); ceiling: owner per message posted to it', ours: fmt(cpuRelayed.owner, 1), ceiling: fmt(cpuDirect.owner, 1), ratio: ratio(cpuRelayed.owner, cpuDirect.owner), target: '', pass: undefined },
    { measure: 'M6 Redis CPU per relayed message (µs); ceiling: per message posted to the owner', ours: fmt(cpuRelayed.redis, 1), ceiling: fmt(cpuDirect.redis, 1), ratio: '', target: '', pass: undefined },
    { measure: 'M6 stateless tools/call req/s, cluster mode on vs off', ours: fmtInt(on.reqPerSec), ceiling: fmtInt(off.reqPerSec), ratio: ratio(on.reqPerSec, off.reqPerSec, 3), target: '≤ 5% apart', pass: Math.abs(apart - 1) <= 0.05 },
    { measure: 'M6 stateless server CPU per request, on vs off (µs)', ours: fmt(on.cpuPerRequestUs, 1), ceiling: fmt(off.cpuPerRequestUs, 1), ratio: ratio(on.cpuPerRequestUs, off.cpuPerRequestUs, 3), target: '', pass: undefined },
    { measure: 'M6 stateless latency p99, on vs off (ms)', ours: fmt(on.p99, 3), ceiling: fmt(off.p99, 3), ratio: ratio(on.p99, off.p99), target: '', pass: undefined },
    { measure: 'M6 Redis commands during the cluster-on stateless load beyond the idle heartbeat (ceiling: all, heartbeat included)', ours: String(stateless.redisBeyondHeartbeat), ceiling: String(stateless.redisCommandTotal), ratio: '', target: '0 (stateless POST never touches Redis)', pass: stateless.redisBeyondHeartbeat === 0 },
    { measure: 'M6 errors (stateless load, on and off)', ours: String(on.errors), ceiling: String(off.errors), ratio: '', target: '0', pass: on.errors === 0 && off.errors === 0 },
    { measure: `M6 RSS per replica after ${n} SSE sessions churned across 2 replicas (after GC, vs baseline)`, ours: memoryCell((m) => m.rss), ceiling: '', ratio: '', target: 'within 5% of baseline', pass: memoryPass((m) => m.rss) },
    { measure: `M6 JS heap per replica after ${n} sessions churned (after GC, vs baseline)`, ours: memoryCell((m) => m.heapUsed), ceiling: '', ratio: '', target: 'within 5% of baseline', pass: memoryPass((m) => m.heapUsed) },
    { measure: 'M6 Redis keys after the churn (once every stream closed, up to 10 s); ceiling: with no session open', ours: String(churn.afterKeys.value), ceiling: String(churn.baselineKeys), ratio: '', target: 'back to baseline', pass: churn.afterKeys.value === churn.baselineKeys },
    ...(churn.afterLiveness === undefined
      ? []
      : [{ measure: 'M6 Redis keys once the liveness window (15 s) passed after the churn', ours: String(churn.afterLiveness.value), ceiling: String(churn.baselineKeys), ratio: '', target: 'back to baseline', pass: churn.afterLiveness.value === churn.baselineKeys }]),
    { measure: 'M6 sessions still open after the churn (both replicas, /health/sse)', ours: String(churn.replicas.reduce((sum, r) => sum + r.left, 0)), ceiling: '', ratio: '', target: '0', pass: churn.replicas.every((r) => r.left === 0) }
  ]
  return { title: TITLE, rows, notes: notes(settings, relay, churn, stateless, keysAfterStop) }
}

function notes (settings: Settings, relay: RelayFigures, churn: ChurnFigures, stateless: ThroughputFigures, keysAfterStop: number): string[] {
  const { direct, relayed, single, cpuDirect, cpuRelayed, cpuSingle } = relay
  const cpuBound = Math.min(stateless.on.serverCpu, stateless.off.serverCpu) >= 0.9
  const where = redisCore() === 'load' ? 'on the load generator\'s core (BENCH_REDIS_CORE=load)' : 'on the server core, beside the replicas (BENCH_REDIS_CORE=server)'
  return [
    `Set-up: the bench's own \`redis-server\` (loopback, free port, no RDB, no AOF), pinned ${where}; replicas A and B are \`bench/servers/ours.ts\` with \`cluster.redisUrl\` (and the same requestStateSecret), logger off, both on the server core. Relayed figures include the wake-ups and context switches between replicas and Redis that separate machines would turn into network hops.`,
    `Round trips: ${settings.sessions} legacy SSE sessions opened alternately on replica A and B; ${settings.roundTrips} sequential tools/call per pass (after 100 warm-up each way), round-robin over the sessions, each POSTed to the session's own replica (owner) or to the other (relayed: HMGET of the directory entry, PUBLISH to the owner's channel, the owner's verdict PUBLISHed back), on one keep-alive connection per replica, timed from the POST to the matching event on the stream, each answer checked byte for byte; passes alternate one process without cluster mode, owner, relayed, relayed, owner, one process. Per-pass p50 (ms): owner ${direct.passes.join(' / ')}, relayed ${relayed.passes.join(' / ')}, one process ${single.passes.join(' / ')}. Means: owner ${fmt(direct.mean, 3)}, relayed ${fmt(relayed.mean, 3)}, one process ${fmt(single.mean, 3)} ms. POST → 202 p50 / p99 one process: ${fmt(single.acceptedP50, 3)} / ${fmt(single.acceptedP99, 3)} ms.`,
    `CPU per message: ${settings.sessions} sessions all on replica B; ${settings.relayMessages.toLocaleString('en-US')} round trips per pass, 10 at a time, POSTed to B (owner) or to A (relaying), and to one process without cluster mode holding its own ${settings.sessions} sessions; passes alternate one process, owner, relayed, relayed, owner, one process; CPU time of each replica (process.cpuUsage over IPC) and of Redis (INFO cpu) over each pass, divided by the messages. One-process passes: ${cpuSingle.passes.join('; ')}. Owner passes: ${cpuDirect.passes.join('; ')}. Relayed passes: ${cpuRelayed.passes.join('; ')}. Relayed total (both replicas): ${fmt(cpuRelayed.relaying + cpuRelayed.owner, 1)} µs vs ${fmt(cpuDirect.owner, 1)} µs posted to the owner; ${fmtInt(cpuRelayed.messagesPerSecond)} relayed vs ${fmtInt(cpuDirect.messagesPerSecond)} direct messages/s at 10 in flight. Redis commands per relayed message: ${describeCommands(cpuRelayed.commands)}; per message posted to the owner: ${describeCommands(cpuDirect.commands)}.`,
    `Stateless on vs off: the M1 request and procedure (autocannon, ${settings.connections} connections, every body checked), ${settings.m6Processes} pairs of fresh processes (cluster mode on: a replica on the bench Redis; off: the same server and secret without it), each ${settings.warmup} s warm-up + ${settings.duration} s per side in ${settings.rounds} alternating rounds. Per pair: ${stateless.pairNotes.join('; ')}. Server CPU: on ${fmt(stateless.on.serverCpu * 100, 0)}%, off ${fmt(stateless.off.serverCpu * 100, 0)}%${cpuBound ? '' : ' of a core: the servers were not CPU-bound, so req/s here says more about neighbours than about cluster mode, and CPU per request is the figure to compare'}. p50 on ${fmt(stateless.on.p50, 3)} ms, off ${fmt(stateless.off.p50, 3)} ms.`,
    `Redis commands during the cluster-on rounds (${fmtInt(stateless.onRequests)} requests; the bench's own INFO reads left out): ${stateless.redisCommands.length === 0 ? 'none' : stateless.redisCommands.map(([name, calls]) => `${name} ${calls}`).join(', ')}. A replica's heartbeat (SET of its key; TIME, MULTI, ZREMRANGEBYSCORE, EXEC, TIME and ZCOUNT for the SSE directory's refresh and count) and a PING on each of its two connections run every 5 s whatever the load: per round of w seconds, up to floor(w / 5) + 1 of each are the heartbeat's, and anything more (or of another kind) counts against the stateless path.`,
    `Churn: as M4 across both replicas: session i opened on replica A or B by turn, 50 at a time; every tenth makes one round trip POSTed to the other replica (relayed) before closing; closes alternate FIN and RST. Warm-up churn ${settings.churnWarmup.toLocaleString('en-US')} sessions per replica, wait for both replicas to count 0, forced GC, baseline (Redis keys then: ${churn.warmupKeys}; with no session open: ${churn.baselineKeys}, the replicas' heartbeat keys); then ${settings.churn.toLocaleString('en-US')} sessions (${fmtInt(churn.run.sessions / churn.run.seconds)} sessions/s, ${churn.run.retries} retries on 503, ${churn.run.relayedRoundTrips} relayed round trips), wait for both replicas to count 0, forced GC, compare; then wait for Redis to be back to ${churn.baselineKeys} keys (${churn.afterKeys.value} after ${fmtInt(churn.afterKeys.waitedMs)} ms${churn.leftoverKeys.length === 0 ? '' : `; left over, for example: ${churn.leftoverKeys.join(', ')}`}).${churn.afterLiveness === undefined ? '' : ` Once the 15 s liveness window had passed since the churn: ${churn.afterLiveness.value} keys (${churn.afterLiveness.keys.join(', ')}).`}`,
    ...churn.replicas.map((r) => `${r.name}: baseline RSS ${mib(r.base.rss)}, heap used ${mib(r.base.heapUsed)} of ${mib(r.base.heapTotal)}; after RSS ${mib(r.after.rss)}, heap used ${mib(r.after.heapUsed)} of ${mib(r.after.heapTotal)}; heap growth ${fmt((r.after.heapUsed - r.base.heapUsed) / 1024 / (churn.run.sessions / 1000), 1)} KB per 1,000 sessions.`),
    `Redis used_memory: ${kb(churn.redisMemory.base)} at the baseline, ${kb(churn.redisMemory.after)} after the churn; keys once both replicas stopped: ${keysAfterStop} (a replica deletes its heartbeat key as it leaves).`
  ]
}
