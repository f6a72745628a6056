import http from 'node:http'
import { closeSpread, openSpread, otherReplica, timedRoundTrip, type HeldSession, type Timed } from '../lib/cluster-ops.js'
import type { ServerChild } from '../lib/processes.js'
import { commandsBetween, type BenchRedis, type RedisCounters } from '../lib/redis-server.js'
import { fmt, percentile, Samples } from '../lib/stats.js'
import type { Settings } from './context.js'

export interface Latency { p50: number, p99: number, mean: number, acceptedP50: number, acceptedP99: number, passes: string[] }

/** CPU per message (µs) of each replica and of Redis over the passes of one kind. */
export interface CpuPerMessage {
  relaying: number
  owner: number
  redis: number
  messagesPerSecond: number
  /** Redis commands per message, by name (the bench's INFO reads left out). */
  commands: Array<[string, number]>
  passes: string[]
}

export interface RelayFigures {
  /** Posted to the replica holding the stream. */
  direct: Latency
  /** Posted to the other replica, which relays it. */
  relayed: Latency
  /** One process without cluster mode: what the owner's figure would be without it. */
  single: Latency
  cpuDirect: CpuPerMessage
  cpuRelayed: CpuPerMessage
  /** Posted to one process without cluster mode (its CPU under `owner`). */
  cpuSingle: CpuPerMessage
  /** The first relayed CPU pass on the monotonic clock of V8 CPU profiles (µs): to cut a --cpu-prof profile to it. */
  relayedWindow: { fromUs: number, toUs: number }
}

type PostTo = (session: HeldSession) => ServerChild
let nextId = 1

/** `count` sequential round trips, round-robin over the sessions, POSTs on one keep-alive connection per replica. */
async function sequential (sessions: HeldSession[], postTo: PostTo, count: number, agent: http.Agent): Promise<Timed[]> {
  const times: Timed[] = []
  for (let i = 0; i < count; i++) {
    const session = sessions[i % sessions.length]
    times.push(await timedRoundTrip(postTo(session), session, nextId++, agent))
  }
  return times
}

function latency (passes: Timed[][]): Latency {
  const events = new Samples()
  const accepted = new Samples()
  for (const pass of passes) for (const t of pass) { events.push(t.event); accepted.push(t.accepted) }
  const e = events.sorted()
  const a = accepted.sorted()
  const p50s = passes.map((pass) => percentile(Float64Array.from(pass.map((t) => t.event)).sort(), 50))
  return {
    p50: percentile(e, 50),
    p99: percentile(e, 99),
    mean: e.reduce((sum, v) => sum + v, 0) / e.length,
    acceptedP50: percentile(a, 50),
    acceptedP99: percentile(a, 99),
    passes: p50s.map((p) => fmt(p, 3))
  }
}

/**
 * Sequential round trips over `sessions` open sessions spread over both replicas: posted to the session's own
 * replica, and to the other one (relayed), in alternating passes; and the same on one process without cluster mode.
 */
async function measureLatency (replicas: ServerChild[], single: ServerChild, settings: Settings): Promise<Pick<RelayFigures, 'direct' | 'relayed' | 'single'>> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  const sessions = await openSpread(replicas, settings.sessions)
  const singleSessions = await openSpread([single], settings.sessions)
  const toOwner: PostTo = (s) => s.owner
  const toOther: PostTo = (s) => otherReplica(replicas, s.owner)
  try {
    await sequential(sessions, toOwner, 100, agent)
    await sequential(sessions, toOther, 100, agent)
    await sequential(singleSessions, toOwner, 100, agent)
    const passes = { direct: [] as Timed[][], relayed: [] as Timed[][], single: [] as Timed[][] }
    // Alternating, so that a burst of noise does not land on one kind only.
    for (const kind of ['single', 'direct', 'relayed', 'relayed', 'direct', 'single'] as const) {
      const pass = kind === 'single'
        ? await sequential(singleSessions, toOwner, settings.roundTrips, agent)
        : await sequential(sessions, kind === 'direct' ? toOwner : toOther, settings.roundTrips, agent)
      passes[kind].push(pass)
    }
    return { direct: latency(passes.direct), relayed: latency(passes.relayed), single: latency(passes.single) }
  } finally {
    agent.destroy()
    await closeSpread(sessions, replicas)
    await closeSpread(singleSessions, [single])
  }
}

interface Totals { relaying: number, owner: number, redis: number, seconds: number, messages: number, commands: Map<string, number>, passes: string[] }

/** `count` round trips, `concurrency` at a time, each worker on its own share of the sessions; seconds taken. */
async function concurrent (sessions: HeldSession[], postTo: PostTo, count: number, concurrency: number, agent: http.Agent): Promise<number> {
  const started = performance.now()
  let done = 0
  await Promise.all(Array.from({ length: concurrency }, async (_, worker) => {
    for (let i = worker; done < count; i += concurrency) {
      done++
      const session = sessions[i % sessions.length]
      await timedRoundTrip(postTo(session), session, nextId++, agent)
    }
  }))
  return (performance.now() - started) / 1000
}

interface CpuReading { relaying: number, owner: number, redis: number, counters: RedisCounters, monoUs: number }

async function readCpu (relaying: ServerChild, owner: ServerChild, redis: BenchRedis): Promise<CpuReading> {
  const [r, o, c] = await Promise.all([relaying.cpu(), owner.cpu(), redis.counters()])
  return { relaying: r.cpuMicros, owner: o.cpuMicros, redis: c.cpuMicros, counters: c, monoUs: r.monoUs }
}

/**
 * Server CPU per message: every session on the owner, `relayMessages` round trips 10 at a time, posted to the owner
 * (direct) or to the other replica (relayed), and for comparison to one process without cluster mode holding its own
 * sessions; passes alternate. CPU time of the replicas (or the one process) and of Redis over each pass.
 */
async function measureCpu (relaying: ServerChild, owner: ServerChild, single: ServerChild, redis: BenchRedis, settings: Settings): Promise<Pick<RelayFigures, 'cpuDirect' | 'cpuRelayed' | 'cpuSingle' | 'relayedWindow'>> {
  const concurrency = 10
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency })
  const sessions = await openSpread([owner], settings.sessions)
  const singleSessions = await openSpread([single], settings.sessions)
  // Per kind: the sessions, where they are posted, and the process whose CPU counts as the owner's.
  const kinds = {
    single: { sessions: singleSessions, postTo: (() => single) as PostTo, owner: single },
    direct: { sessions, postTo: (() => owner) as PostTo, owner },
    relayed: { sessions, postTo: (() => relaying) as PostTo, owner }
  }
  const empty = (): Totals => ({ relaying: 0, owner: 0, redis: 0, seconds: 0, messages: 0, commands: new Map(), passes: [] })
  const totals = { single: empty(), direct: empty(), relayed: empty() }
  let relayedWindow: RelayFigures['relayedWindow'] | undefined
  try {
    for (const kind of ['single', 'direct', 'relayed'] as const) await concurrent(kinds[kind].sessions, kinds[kind].postTo, 200, concurrency, agent)
    for (const kind of ['single', 'direct', 'relayed', 'relayed', 'direct', 'single'] as const) {
      const { sessions: passSessions, postTo, owner: measured } = kinds[kind]
      const before = await readCpu(relaying, measured, redis)
      const seconds = await concurrent(passSessions, postTo, settings.relayMessages, concurrency, agent)
      const after = await readCpu(relaying, measured, redis)
      const t = totals[kind]
      if (kind === 'relayed') relayedWindow ??= { fromUs: before.monoUs, toUs: after.monoUs }
      const pass = { relaying: after.relaying - before.relaying, owner: after.owner - before.owner, redis: after.redis - before.redis }
      t.relaying += pass.relaying
      t.owner += pass.owner
      t.redis += pass.redis
      t.seconds += seconds
      t.messages += settings.relayMessages
      for (const [name, calls] of commandsBetween(before.counters, after.counters)) {
        if (name !== 'info') t.commands.set(name, (t.commands.get(name) ?? 0) + calls)
      }
      const n = settings.relayMessages
      t.passes.push(`${fmt(n / seconds, 0)} msg/s, µs per message: relaying ${fmt(pass.relaying / n, 1)}, owner ${fmt(pass.owner / n, 1)}, Redis ${fmt(pass.redis / n, 1)}`)
    }
  } finally {
    agent.destroy()
    await closeSpread(sessions, [owner])
    await closeSpread(singleSessions, [single])
  }
  const perMessage = (t: Totals): CpuPerMessage => ({
    relaying: t.relaying / t.messages,
    owner: t.owner / t.messages,
    redis: t.redis / t.messages,
    messagesPerSecond: t.messages / t.seconds,
    commands: [...t.commands].map(([name, calls]): [string, number] => [name, calls / t.messages]).sort((a, b) => b[1] - a[1]),
    passes: t.passes
  })
  return {
    cpuDirect: perMessage(totals.direct),
    cpuRelayed: perMessage(totals.relayed),
    cpuSingle: perMessage(totals.single),
    relayedWindow: relayedWindow as RelayFigures['relayedWindow']
  }
}

/** The relay rows of M6: round trips posted to the owner and to another replica, and what a relayed message costs. */
export async function measureRelay (replicas: ServerChild[], single: ServerChild, redis: BenchRedis, settings: Settings): Promise<RelayFigures> {
  const latencies = await measureLatency(replicas, single, settings)
  const cpu = await measureCpu(replicas[0], replicas[1], single, redis, settings)
  return { ...latencies, ...cpu }
}
