import { checkAnswer, load, summarize, type LoadRun, type LoadSummary } from '../lib/load.js'
import { ratio, type Row, type Section } from '../lib/report.js'
import { fmt, fmtInt } from '../lib/stats.js'
import { ServerChild } from '../lib/processes.js'
import { BENCH_TOKEN, benchCall, type BenchCall } from '../servers/common.js'
import { SERVERS_DIR } from '../lib/processes.js'
import type { Servers, Settings } from './context.js'

export interface M1Result { section: Section, ours: LoadSummary, ceiling: LoadSummary }

function roundNote (run: LoadRun): string {
  return `${run.target}: ${fmtInt(run.requests / run.seconds)} req/s over ${run.seconds} s, server CPU ${fmt(run.serverCpu * 100, 0)}%, ${fmt(run.cpuPerRequestUs, 1)} µs CPU per request, load generator CPU ${fmt(run.loadCpu * 100, 0)}%` +
    (run.errors > 0 ? `, ${run.errors} errors (${run.non2xx} non-2xx, ${run.mismatches} wrong bodies)` : '')
}

/** Starts a server child (bench/servers/<script>.ts); the caller stops it. */
export type StartServer = (name: string, script: string, env?: NodeJS.ProcessEnv) => Promise<ServerChild>

/** The server processes of one M1 pair (named so since it began as ours against the ceiling). */
interface Pair {
  ceiling: ServerChild
  ours: ServerChild
  tracing: ServerChild
  metrics: ServerChild
  /** bare Fastify logging its request lines at info to a pipe */
  ceilingLogged: ServerChild
  /** `node server` as shipped: default log level, stdout a pipe */
  shipped: ServerChild
}

/** One measured combination: a server and the request it gets. Its runs are kept under `key`. */
interface Target { key: string, server: ServerChild, call: BenchCall }

const CALLS = { 2025: benchCall('2025'), 2026: benchCall('2026') }

function targetsOf (pair: Pair): Target[] {
  return [
    { key: 'ceiling-2025', server: pair.ceiling, call: CALLS[2025] },
    { key: 'ours-2025', server: pair.ours, call: CALLS[2025] },
    { key: 'ours-2026', server: pair.ours, call: CALLS[2026] },
    { key: 'ceiling-2026', server: pair.ceiling, call: CALLS[2026] },
    { key: 'tracing-2025', server: pair.tracing, call: CALLS[2025] },
    { key: 'metrics-2025', server: pair.metrics, call: CALLS[2025] },
    { key: 'ceilingLogged-2025', server: pair.ceilingLogged, call: CALLS[2025] },
    { key: 'shipped-2025', server: pair.shipped, call: CALLS[2025] },
    { key: 'shipped-2026', server: pair.shipped, call: CALLS[2026] },
    { key: 'ceilingLogged-2026', server: pair.ceilingLogged, call: CALLS[2026] }
  ]
}

async function startPair (label: string, start: StartServer, servers: Servers | undefined, started: ServerChild[]): Promise<Pair> {
  const track = async (child: Promise<ServerChild>): Promise<ServerChild> => {
    const made = await child
    started.push(made)
    return made
  }
  const toolsModule = `${SERVERS_DIR}../fixtures/server-tools.js`
  return {
    ceiling: servers?.ceiling ?? await track(start(`ceiling (bare Fastify), ${label}`, 'bare-fastify')),
    ours: servers?.ours ?? await track(start(`ours, ${label}`, 'ours')),
    tracing: await track(start(`ours, tracing on, ${label}`, 'ours', { BENCH_TRACING: 'memory' })),
    metrics: await track(start(`ours, metrics on, ${label}`, 'ours', { BENCH_METRICS: '1' })),
    ceilingLogged: await track(ServerChild.start(`ceiling (bare Fastify, logging at info), ${label}`, 'bare-fastify', [], { BENCH_LOG_LEVEL: 'info' }, 'pipe')),
    shipped: await track(ServerChild.startNodeServer(`node server as shipped, ${label}`, ['--tools', toolsModule], {
      MCP_TOKEN: BENCH_TOKEN, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: undefined, MCP_TOKEN_FILE: undefined, MCP_TOOLS: undefined
    }))
  }
}

/** Warm-up, then `rounds` rounds over every target, in alternating order, so that neighbours' noise lands on all. */
async function measurePair (pair: Pair, settings: Settings, runs: Map<string, LoadRun[]>, label: string, log: (line: string) => void): Promise<void> {
  const targets = targetsOf(pair)
  for (const target of targets) await checkAnswer(target.server, target.call)
  if (settings.warmup > 0) {
    for (const target of targets) await load(target.server, settings.warmup, settings.connections, target.call)
  }
  // Whole seconds: autocannon stops on its one-second tick.
  const perRound = Math.max(1, Math.floor(settings.duration / settings.rounds))
  for (let round = 0; round < settings.rounds; round++) {
    const order = round % 2 === 0 ? targets : [...targets].reverse()
    for (const target of order) {
      const run = await load(target.server, perRound, settings.connections, target.call, `${target.key} (${label})`)
      const list = runs.get(target.key) ?? []
      list.push(run)
      runs.set(target.key, list)
      log(`M1 ${label} round ${round + 1}: ${roundNote(run)}`)
    }
  }
}

function rate (runs: LoadRun[]): number {
  return runs.reduce((sum, run) => sum + run.requests, 0) / Math.max(1, runs.reduce((sum, run) => sum + run.seconds, 0))
}

/**
 * M1: stateless `tools/call` on `POST /mcp`, in alternating rounds on `settings.m1Processes` sets of server
 * processes (the first reuses the long-running ours and ceiling, which M4 uses too). Against the bare Fastify
 * route with its logger off: ours in both eras (the ceiling answering each era's request with that era's bytes),
 * ours with tracing (in-memory exporter) and with metrics. Against bare Fastify logging its request lines at info
 * to a pipe: `node server` as shipped (its default log level, stdout a pipe), both eras. One process of the same
 * server can run several percent faster or slower than another for its whole life, so several sets are measured.
 */
export async function measureM1 (servers: Servers, settings: Settings, start: StartServer, log: (line: string) => void): Promise<M1Result> {
  const runs = new Map<string, LoadRun[]>()
  const pairNotes: string[] = []
  for (let index = 0; index < settings.m1Processes; index++) {
    const label = `pair ${index + 1}/${settings.m1Processes}`
    const started: ServerChild[] = []
    const before = new Map([...runs].map(([key, list]) => [key, list.length]))
    try {
      const pair = await startPair(label, start, index === 0 ? servers : undefined, started)
      log(`M1 ${label}: warm-up ${settings.warmup} s each, then ${settings.rounds} rounds over 10 targets`)
      await measurePair(pair, settings, runs, label, log)
    } finally {
      await Promise.all(started.map(async (child) => { await child.stop() }))
    }
    const pairRate = (key: string): number => rate((runs.get(key) ?? []).slice(before.get(key) ?? 0))
    const compare = (name: string, ours: string, ceiling: string): string =>
      `${name} ${fmtInt(pairRate(ours))} / ${fmtInt(pairRate(ceiling))} req/s = ${ratio(pairRate(ours), pairRate(ceiling))}`
    pairNotes.push(`${label}: ${[
      compare('2025', 'ours-2025', 'ceiling-2025'),
      compare('2026', 'ours-2026', 'ceiling-2026'),
      compare('as shipped 2025', 'shipped-2025', 'ceilingLogged-2025'),
      compare('as shipped 2026', 'shipped-2026', 'ceilingLogged-2026'),
      compare('tracing on / off', 'tracing-2025', 'ours-2025'),
      compare('metrics on / off', 'metrics-2025', 'ours-2025')
    ].join('; ')}`)
  }
  const s = (key: string): LoadSummary => summarize(key, runs.get(key) ?? [])
  const all = Object.fromEntries([...runs.keys()].map((key) => [key, s(key)])) as Record<string, LoadSummary>
  const throughput = (measure: string, ours: LoadSummary, ceiling: LoadSummary, floor: number | undefined): Row => ({
    measure,
    ours: fmtInt(ours.reqPerSec),
    ceiling: fmtInt(ceiling.reqPerSec),
    ratio: ratio(ours.reqPerSec, ceiling.reqPerSec),
    target: floor === undefined ? '' : `≥ ${fmt(floor, 2)}×`,
    pass: floor === undefined ? undefined : ours.reqPerSec / ceiling.reqPerSec >= floor
  })
  const p99 = (measure: string, ours: LoadSummary, ceiling: LoadSummary): Row => ({
    measure, ours: fmt(ours.p99, 3), ceiling: fmt(ceiling.p99, 3), ratio: ratio(ours.p99, ceiling.p99), target: '≤ 1.5×', pass: ours.p99 / ceiling.p99 <= 1.5
  })
  const cpu = (measure: string, ours: LoadSummary, ceiling: LoadSummary, target = ''): Row => ({
    measure, ours: fmt(ours.cpuPerRequestUs, 1), ceiling: fmt(ceiling.cpuPerRequestUs, 1), ratio: ratio(ours.cpuPerRequestUs, ceiling.cpuPerRequestUs), target, pass: undefined
  })
  const legacy = all['ours-2025'].reqPerSec / all['ceiling-2025'].reqPerSec
  const modern = all['ours-2026'].reqPerSec / all['ceiling-2026'].reqPerSec
  const cost = (on: LoadSummary, off: LoadSummary): string => `+${fmt(on.cpuPerRequestUs - off.cpuPerRequestUs, 1)} µs CPU per request`
  const errors = [...runs.values()].flat().reduce((sum, run) => sum + run.errors, 0)
  const section: Section = {
    title: 'M1 stateless tools/call over POST /mcp',
    rows: [
      throughput('M1 2025 tools/call, req/s (logging off)', all['ours-2025'], all['ceiling-2025'], 0.8),
      throughput('M1 2026-07-28 tools/call, req/s (logging off)', all['ours-2026'], all['ceiling-2026'], 0.8),
      {
        measure: 'M1 2026 row against the 2025 row (ratio of their ratios)',
        ours: ratio(all['ours-2026'].reqPerSec, all['ceiling-2026'].reqPerSec),
        ceiling: ratio(all['ours-2025'].reqPerSec, all['ceiling-2025'].reqPerSec),
        ratio: `${fmt(modern / legacy, 2)}×`,
        target: '≥ 0.95× (within 5%)',
        pass: modern / legacy >= 0.95
      },
      throughput('M1 as shipped 2025: `node server` (info, stdout a pipe) vs bare Fastify logging at info, req/s', all['shipped-2025'], all['ceilingLogged-2025'], 0.85),
      throughput('M1 as shipped 2026-07-28, req/s', all['shipped-2026'], all['ceilingLogged-2026'], 0.85),
      p99('M1 2025 latency p99 (ms)', all['ours-2025'], all['ceiling-2025']),
      p99('M1 2026 latency p99 (ms)', all['ours-2026'], all['ceiling-2026']),
      p99('M1 as shipped 2025 latency p99 (ms)', all['shipped-2025'], all['ceilingLogged-2025']),
      p99('M1 as shipped 2026 latency p99 (ms)', all['shipped-2026'], all['ceilingLogged-2026']),
      { measure: 'M1 2025 latency p50 (ms)', ours: fmt(all['ours-2025'].p50, 3), ceiling: fmt(all['ceiling-2025'].p50, 3), ratio: ratio(all['ours-2025'].p50, all['ceiling-2025'].p50), target: '', pass: undefined },
      cpu('M1 2025 server CPU per request (µs; least moved by noisy neighbours)', all['ours-2025'], all['ceiling-2025'], '(≤ 1.25× would match 0.80× req/s when CPU-bound)'),
      cpu('M1 2026 server CPU per request (µs)', all['ours-2026'], all['ceiling-2026']),
      cpu('M1 as shipped 2025 server CPU per request (µs)', all['shipped-2025'], all['ceilingLogged-2025']),
      cpu('M1 as shipped 2026 server CPU per request (µs)', all['shipped-2026'], all['ceilingLogged-2026']),
      { ...throughput('M1 tracing on (in-memory exporter) vs off, 2025, req/s', all['tracing-2025'], all['ours-2025'], undefined), target: cost(all['tracing-2025'], all['ours-2025']) },
      { ...throughput('M1 metrics on vs off, 2025, req/s', all['metrics-2025'], all['ours-2025'], undefined), target: cost(all['metrics-2025'], all['ours-2025']) },
      { measure: 'M1 errors (socket, non-2xx, wrong body), every target', ours: String(errors), ceiling: '', ratio: '', target: '0', pass: errors === 0 }
    ],
    notes: [
      `autocannon, ${settings.connections} connections; each target gets the same body and headers (Authorization included) as its ceiling, and every response body is compared byte for byte with the expected JSON-RPC result (a 2026-07-28 request gets that revision's result from the ceiling too).`,
      'Targets: bare Fastify, logger off (ceiling); ours (the plugin, logger off) with a 2025 and a 2026-07-28 request; ours with tracing on (a tracer provider and an in-memory exporter) and with metrics on; bare Fastify logging its two request lines at info to a pipe the bench drains (the as-shipped ceiling); `node server` as shipped (default log level info, its one line per call to a pipe the bench drains, bench tools through --tools).',
      `${settings.m1Processes} sets of server processes, each measured in turn; the figures above are over all of them. Per set: ${pairNotes.join(' | ')}.`,
      `Server CPU during the measured rounds: ${[...Object.entries(all)].map(([key, summary]) => `${key} ${fmt(summary.serverCpu * 100, 0)}%`).join(', ')} of one core (near 100% means the server, not the load generator, was the limit).`,
      ...[...runs.values()].flat().map(roundNote)
    ]
  }
  return { section, ours: all['ours-2025'], ceiling: all['ceiling-2025'] }
}
