import { checkAnswer, load, summarize, type LoadRun, type LoadSummary } from '../lib/load.js'
import type { ServerChild } from '../lib/processes.js'
import { commandsBetween, type BenchRedis } from '../lib/redis-server.js'
import { ratio } from '../lib/report.js'
import { fmt, fmtInt } from '../lib/stats.js'
import type { Settings } from './context.js'

/** Starts one `ours` child, with cluster mode on (`cluster`) or off; the caller stops it. */
export type StartOurs = (name: string, cluster: boolean) => Promise<ServerChild>

/** Commands the bench itself sends to Redis (to read it): not the host's. */
const BENCH_COMMANDS = new Set(['info', 'dbsize', 'scan', 'client|setname', 'client|setinfo', 'command', 'command|docs'])

/**
 * What an idle replica sends whatever the load, per tick of 5 s (the heartbeat at a third of the default 15 s
 * liveness window: SET of its key; the SSE directory's refresh, TIME then MULTI, ZREMRANGEBYSCORE of the expired
 * entries, EXEC, and TIME and ZCOUNT for its count; and a PING on each of its two connections at the default 5 s).
 * A window of w seconds holds at most floor(w / 5) + 1 ticks of each. test/cluster/stateless-redis-silence.test.ts
 * checks the same list with MONITOR.
 */
const TICK_SECONDS = 5
const HEARTBEAT_PER_TICK: ReadonlyMap<string, number> = new Map([
  ['set', 1], ['time', 2], ['multi', 1], ['zremrangebyscore', 1], ['exec', 1], ['zcount', 1], ['ping', 2]
])

/** Commands of one window beyond what the heartbeat explains (any command of another kind counts in full). */
function beyondHeartbeat (commands: Array<[string, number]>, windowSeconds: number): number {
  const ticks = Math.floor(windowSeconds / TICK_SECONDS) + 1
  return commands.reduce((sum, [name, calls]) => sum + Math.max(0, calls - ticks * (HEARTBEAT_PER_TICK.get(name) ?? 0)), 0)
}

export interface ThroughputFigures {
  on: LoadSummary
  off: LoadSummary
  /** Redis commands the cluster-on servers caused while under load, by name. */
  redisCommands: Array<[string, number]>
  redisCommandTotal: number
  /** Of those, commands the heartbeat and pings do not explain: the ones the stateless path would have caused. */
  redisBeyondHeartbeat: number
  /** Requests served by the cluster-on servers while Redis was watched. */
  onRequests: number
  pairNotes: string[]
  roundNotes: string[]
}

function roundNote (label: string, run: LoadRun): string {
  return `${label}: ${fmtInt(run.requests / run.seconds)} req/s over ${run.seconds} s, server CPU ${fmt(run.serverCpu * 100, 0)}%, ${fmt(run.cpuPerRequestUs, 1)} µs CPU per request` +
    (run.errors > 0 ? `, ${run.errors} errors (${run.non2xx} non-2xx, ${run.mismatches} wrong bodies)` : '')
}

const rate = (runs: LoadRun[]): number => runs.reduce((s, r) => s + r.requests, 0) / Math.max(1, runs.reduce((s, r) => s + r.seconds, 0))

/**
 * Stateless `tools/call` on `POST /mcp` with cluster mode on and off, the M1 load and procedure: `m6Processes`
 * pairs of fresh processes, each with a warm-up and alternating rounds. Redis is read around every cluster-on round,
 * to show what (if anything) the stateless path sent it.
 */
export async function measureStatelessOnOff (start: StartOurs, redis: BenchRedis, settings: Settings, log: (line: string) => void): Promise<ThroughputFigures> {
  const runs = { on: [] as LoadRun[], off: [] as LoadRun[] }
  const commands = new Map<string, number>()
  let beyond = 0
  const pairNotes: string[] = []
  const roundNotes: string[] = []
  const perRound = Math.max(1, Math.floor(settings.duration / settings.rounds))
  for (let index = 0; index < settings.m6Processes; index++) {
    const label = `pair ${index + 1}/${settings.m6Processes}`
    const on = await start(`cluster on, ${label}`, true)
    const off = await start(`cluster off, ${label}`, false)
    const before = { on: runs.on.length, off: runs.off.length }
    try {
      await checkAnswer(off)
      await checkAnswer(on)
      if (settings.warmup > 0) {
        await load(off, settings.warmup, settings.connections)
        await load(on, settings.warmup, settings.connections)
      }
      for (let round = 0; round < settings.rounds; round++) {
        for (const server of round % 2 === 0 ? [off, on] : [on, off]) {
          const redisBefore = server === on ? await redis.counters() : undefined
          const windowStart = performance.now()
          const run = await load(server, perRound, settings.connections)
          if (redisBefore !== undefined) {
            const ran = commandsBetween(redisBefore, await redis.counters()).filter(([name]) => !BENCH_COMMANDS.has(name))
            beyond += beyondHeartbeat(ran, (performance.now() - windowStart) / 1000)
            for (const [name, calls] of ran) commands.set(name, (commands.get(name) ?? 0) + calls)
          }
          ;(server === on ? runs.on : runs.off).push(run)
          roundNotes.push(roundNote(server.name, run))
          log(`M6 stateless ${label} round ${round + 1}: ${roundNote(server.name, run)}`)
        }
      }
    } finally {
      await Promise.all([on.stop(), off.stop()])
    }
    const onRate = rate(runs.on.slice(before.on))
    const offRate = rate(runs.off.slice(before.off))
    pairNotes.push(`${label}: on ${fmtInt(onRate)} req/s, off ${fmtInt(offRate)} req/s, ${ratio(onRate, offRate, 3)}`)
  }
  const redisCommands = [...commands].sort((a, b) => b[1] - a[1])
  return {
    on: summarize('cluster on', runs.on),
    off: summarize('cluster off', runs.off),
    redisCommands,
    redisCommandTotal: redisCommands.reduce((sum, [, calls]) => sum + calls, 0),
    redisBeyondHeartbeat: beyond,
    onRequests: runs.on.reduce((sum, run) => sum + run.requests, 0),
    pairNotes,
    roundNotes
  }
}
