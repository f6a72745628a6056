import { checkAnswer, load, summarize, type LoadRun, type LoadSummary } from '../lib/load.js'
import { ratio, type Section } from '../lib/report.js'
import { fmt, fmtInt } from '../lib/stats.js'
import type { ServerChild } from '../lib/processes.js'
import type { Servers, Settings } from './context.js'

export interface M1Result { section: Section, ours: LoadSummary, ceiling: LoadSummary }

function roundNote (run: LoadRun): string {
  return `${run.target}: ${fmtInt(run.requests / run.seconds)} req/s over ${run.seconds} s, server CPU ${fmt(run.serverCpu * 100, 0)}%, ${fmt(run.cpuPerRequestUs, 1)} µs CPU per request, load generator CPU ${fmt(run.loadCpu * 100, 0)}%` +
    (run.errors > 0 ? `, ${run.errors} errors (${run.non2xx} non-2xx, ${run.mismatches} wrong bodies)` : '')
}

/** Starts a server child (bench/servers/<script>.ts); the caller stops it. */
export type StartServer = (name: string, script: string, env?: NodeJS.ProcessEnv) => Promise<ServerChild>

interface Pair { ours: ServerChild, ceiling: ServerChild }

/** Warm-up, then `rounds` alternating rounds on one pair of server processes; the runs land in `runs`. */
async function measurePair (pair: Pair, settings: Settings, runs: { ours: LoadRun[], ceiling: LoadRun[] }, label: string, log: (line: string) => void): Promise<void> {
  const { ours, ceiling } = pair
  await checkAnswer(ceiling)
  await checkAnswer(ours)
  if (settings.warmup > 0) {
    await load(ceiling, settings.warmup, settings.connections)
    await load(ours, settings.warmup, settings.connections)
  }
  // Whole seconds: autocannon stops on its one-second tick.
  const perRound = Math.max(1, Math.floor(settings.duration / settings.rounds))
  for (let round = 0; round < settings.rounds; round++) {
    const order = round % 2 === 0 ? [ceiling, ours] : [ours, ceiling]
    for (const server of order) {
      const run = await load(server, perRound, settings.connections)
      ;(server === ours ? runs.ours : runs.ceiling).push(run)
      log(`M1 ${label} round ${round + 1}: ${roundNote(run)}`)
    }
  }
}

function rate (runs: LoadRun[]): number {
  return runs.reduce((sum, run) => sum + run.requests, 0) / Math.max(1, runs.reduce((sum, run) => sum + run.seconds, 0))
}

/**
 * M1: stateless `tools/call` on `POST /mcp`, ours against the bare Fastify route, in alternating rounds on
 * `settings.m1Processes` pairs of server processes: the long-running pair (M4 uses it too) and fresh ones. One
 * process of the same server can run several percent faster or slower than another for its whole life (JIT
 * decisions differ run to run), so one pair alone can land either side of a target.
 */
export async function measureM1 (servers: Servers, settings: Settings, start: StartServer, log: (line: string) => void): Promise<M1Result> {
  const runs = { ours: [] as LoadRun[], ceiling: [] as LoadRun[] }
  const pairNotes: string[] = []
  for (let index = 0; index < settings.m1Processes; index++) {
    const label = `pair ${index + 1}/${settings.m1Processes}`
    const pair = index === 0
      ? { ours: servers.ours, ceiling: servers.ceiling }
      : { ours: await start(`ours, ${label}`, 'ours'), ceiling: await start(`ceiling (bare Fastify), ${label}`, 'bare-fastify') }
    const before = { ours: runs.ours.length, ceiling: runs.ceiling.length }
    log(`M1 ${label}: warm-up ${settings.warmup} s each, then ${settings.rounds} rounds`)
    try {
      await measurePair(pair, settings, runs, label, log)
    } finally {
      if (index > 0) await Promise.all([pair.ours.stop(), pair.ceiling.stop()])
    }
    const oursRate = rate(runs.ours.slice(before.ours))
    const ceilingRate = rate(runs.ceiling.slice(before.ceiling))
    pairNotes.push(`${label}: ours ${fmtInt(oursRate)} req/s, ceiling ${fmtInt(ceilingRate)} req/s, ${ratio(oursRate, ceilingRate)}`)
  }
  const ours = servers.ours
  const ceiling = servers.ceiling
  const o = summarize(ours.name, runs.ours)
  const c = summarize(ceiling.name, runs.ceiling)
  const throughputRatio = o.reqPerSec / c.reqPerSec
  const p99Ratio = o.p99 / c.p99
  const section: Section = {
    title: 'M1 stateless tools/call over POST /mcp',
    rows: [
      { measure: 'M1 stateless tools/call, req/s', ours: fmtInt(o.reqPerSec), ceiling: fmtInt(c.reqPerSec), ratio: ratio(o.reqPerSec, c.reqPerSec), target: '≥ 0.75×', pass: throughputRatio >= 0.75 },
      { measure: 'M1 latency p50 (ms)', ours: fmt(o.p50, 3), ceiling: fmt(c.p50, 3), ratio: ratio(o.p50, c.p50), target: '', pass: undefined },
      { measure: 'M1 latency p99 (ms)', ours: fmt(o.p99, 3), ceiling: fmt(c.p99, 3), ratio: ratio(o.p99, c.p99), target: '≤ 2×', pass: p99Ratio <= 2 },
      { measure: 'M1 server CPU per request (µs; least moved by noisy neighbours)', ours: fmt(o.cpuPerRequestUs, 1), ceiling: fmt(c.cpuPerRequestUs, 1), ratio: ratio(o.cpuPerRequestUs, c.cpuPerRequestUs), target: '(≤ 1.33× would match 0.75× req/s when CPU-bound)', pass: undefined },
      { measure: 'M1 errors (socket, non-2xx, wrong body)', ours: String(o.errors), ceiling: String(c.errors), ratio: '', target: '0', pass: o.errors === 0 && c.errors === 0 }
    ],
    notes: [
      `autocannon, ${settings.connections} connections, same body and headers (Authorization included) to both; every response body compared byte for byte with the expected JSON-RPC result.`,
      `${settings.m1Processes} pairs of server processes, each pair measured in turn; the figures above are over all of them. Per pair: ${pairNotes.join('; ')}.`,
      `Server CPU during the measured rounds: ours ${fmt(o.serverCpu * 100, 0)}%, ceiling ${fmt(c.serverCpu * 100, 0)}% of one core (near 100% means the server, not the load generator, was the limit).`,
      ...[...runs.ceiling, ...runs.ours].map(roundNote)
    ]
  }
  return { section, ours: o, ceiling: c }
}
