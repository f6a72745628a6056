import { checkAnswer, load, summarize, type LoadSummary } from '../lib/load.js'
import { ratio, type Section } from '../lib/report.js'
import { churn, closeSessions, openSessions, waitForSessions, type ChurnResult } from '../lib/sse-ops.js'
import { fmt, fmtInt, mib, sleep } from '../lib/stats.js'
import type { ServerChild } from '../lib/processes.js'
import type { MemoryReport } from '../servers/common.js'
import type { Servers, Settings } from './context.js'

/** The M1 load again, shorter, while `sessions` legacy SSE sessions sit open and idle on the same server. */
async function loadWithIdleSessions (server: ServerChild, viaHealth: boolean, settings: Settings): Promise<LoadSummary> {
  const clients = await openSessions(server, settings.sessions)
  try {
    if (await waitForSessions(server, viaHealth, settings.sessions) !== settings.sessions) throw new Error(`${server.name}: sessions not registered`)
    await checkAnswer(server)
    await load(server, 1, settings.connections)
    return summarize(server.name, [await load(server, settings.m4Duration, settings.connections)])
  } finally {
    await closeSessions(clients)
  }
}

interface ChurnFigures {
  /** After the first 300 sessions: what a short warm-up would have taken as the baseline. */
  early: MemoryReport
  base: MemoryReport
  after: MemoryReport
  run: ChurnResult
  left: number
}

async function settle (server: ServerChild, viaHealth: boolean): Promise<MemoryReport> {
  await waitForSessions(server, viaHealth, 0)
  await sleep(200)
  return await server.memory()
}

/**
 * Warm-up churn until the allocators have reached their working size (V8's young generation and malloc's
 * arenas grow over the first few thousand connections, in the hand-made floor as much as in ours), GC,
 * baseline; the full churn, wait for every close to land, GC, compare.
 */
async function churnMemory (server: ServerChild, viaHealth: boolean, settings: Settings): Promise<ChurnFigures> {
  await churn(server, 300)
  const early = await settle(server, viaHealth)
  if (settings.churnWarmup > 300) await churn(server, settings.churnWarmup - 300)
  const base = await settle(server, viaHealth)
  const run = await churn(server, settings.churn)
  const left = await waitForSessions(server, viaHealth, 0)
  await sleep(200)
  const after = await server.memory()
  return { early, base, after, run, left }
}

const drift = (after: number, base: number): number => (after - base) / base

function driftCell (after: number, base: number): string {
  const d = drift(after, base)
  return `${mib(after)} (${d >= 0 ? '+' : ''}${fmt(d * 100, 1)}%)`
}

/** M4: throughput with idle sessions open, and memory after opening and closing many sessions. */
export async function measureM4 (servers: Servers, settings: Settings, m1Ours: LoadSummary, log: (line: string) => void): Promise<Section> {
  const cl = await loadWithIdleSessions(servers.ceilingSse, false, settings)
  const ol = await loadWithIdleSessions(servers.ours, true, settings)
  log(`M4 load with ${settings.sessions} idle SSE: ours ${fmtInt(ol.reqPerSec)} req/s p99 ${fmt(ol.p99, 3)} ms; ceiling ${fmtInt(cl.reqPerSec)} req/s p99 ${fmt(cl.p99, 3)} ms`)

  const c = await churnMemory(servers.ceilingSse, false, settings)
  log(`M4 churn ceiling: ${fmtInt(c.run.sessions / c.run.seconds)} sessions/s, RSS ${mib(c.base.rss)} → ${mib(c.after.rss)}, heap ${mib(c.base.heapUsed)} → ${mib(c.after.heapUsed)}`)
  const o = await churnMemory(servers.oursSse, true, settings)
  log(`M4 churn ours: ${fmtInt(o.run.sessions / o.run.seconds)} sessions/s, RSS ${mib(o.base.rss)} → ${mib(o.after.rss)}, heap ${mib(o.base.heapUsed)} → ${mib(o.after.heapUsed)}`)

  const n = settings.churn.toLocaleString('en-US')
  return {
    title: 'M4 scale',
    rows: [
      { measure: `M4 req/s with ${settings.sessions} idle SSE sessions open`, ours: fmtInt(ol.reqPerSec), ceiling: fmtInt(cl.reqPerSec), ratio: ratio(ol.reqPerSec, cl.reqPerSec), target: `ours without sessions (M1): ${fmtInt(m1Ours.reqPerSec)}, ${ratio(ol.reqPerSec, m1Ours.reqPerSec)}`, pass: undefined },
      { measure: `M4 p99 (ms) with ${settings.sessions} idle SSE sessions open`, ours: fmt(ol.p99, 3), ceiling: fmt(cl.p99, 3), ratio: ratio(ol.p99, cl.p99), target: `ours without sessions (M1): ${fmt(m1Ours.p99, 3)}, ${ratio(ol.p99, m1Ours.p99)}`, pass: undefined },
      { measure: 'M4 errors under load with idle sessions', ours: String(ol.errors), ceiling: String(cl.errors), ratio: '', target: '0', pass: ol.errors === 0 && cl.errors === 0 },
      { measure: `M4 RSS after ${n} SSE sessions opened and closed (after GC, vs baseline)`, ours: driftCell(o.after.rss, o.base.rss), ceiling: driftCell(c.after.rss, c.base.rss), ratio: '', target: 'within 5% of baseline', pass: Math.abs(drift(o.after.rss, o.base.rss)) <= 0.05 },
      { measure: `M4 JS heap after ${n} sessions opened and closed (after GC, vs baseline)`, ours: driftCell(o.after.heapUsed, o.base.heapUsed), ceiling: driftCell(c.after.heapUsed, c.base.heapUsed), ratio: '', target: 'within 5% of baseline', pass: Math.abs(drift(o.after.heapUsed, o.base.heapUsed)) <= 0.05 },
      { measure: 'M4 sessions still open after the churn (ours: /health/sse)', ours: String(o.left), ceiling: String(c.left), ratio: '', target: '0', pass: o.left === 0 }
    ],
    notes: [
      `Load: the M1 request, ${settings.connections} connections, 1 s warm-up + ${settings.m4Duration} s, with ${settings.sessions} legacy SSE sessions open and idle on the same server; the ceiling is the hand-made SSE server's bare POST /mcp route with its own ${settings.sessions} sessions. Server CPU: ours ${fmt(ol.serverCpu * 100, 0)}%, ceiling ${fmt(cl.serverCpu * 100, 0)}%.`,
      `Churn: ${n} sessions, 50 at a time; every tenth makes one tools/call round trip before closing; closes alternate between FIN and RST; then a wait until the server counts 0 sessions, forced GC, measure. Baseline: the same after a warm-up churn of ${settings.churnWarmup.toLocaleString('en-US')} sessions (BENCH_CHURN_WARMUP).`,
      `Why that warm-up: RSS keeps growing over the first few thousand connections while the JS heap stays flat, in the hand-made floor too (V8 enlarges its young generation, malloc its arenas), then levels off. After only 300 sessions the figures were: ours RSS ${mib(o.early.rss)} heap ${mib(o.early.heapUsed)} (allocated heap ${mib(o.early.heapTotal)}); ceiling RSS ${mib(c.early.rss)} heap ${mib(c.early.heapUsed)} (allocated ${mib(c.early.heapTotal)}).`,
      ...[['Ours', o] as const, ['Ceiling', c] as const].map(([label, f]) =>
        `${label}: ${fmtInt(f.run.sessions / f.run.seconds)} sessions/s, ${f.run.retries} retries on 503, ${f.run.roundTrips} round trips; baseline RSS ${mib(f.base.rss)}, heap used ${mib(f.base.heapUsed)} of ${mib(f.base.heapTotal)}, external ${mib(f.base.external)}; after RSS ${mib(f.after.rss)}, heap used ${mib(f.after.heapUsed)} of ${mib(f.after.heapTotal)}, external ${mib(f.after.external)}; heap growth ${fmt((f.after.heapUsed - f.base.heapUsed) / 1024 / (f.run.sessions / 1000), 1)} KB per 1,000 sessions.`)
    ]
  }
}
