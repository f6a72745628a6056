import http from 'node:http'
import { ratio, type Section } from '../lib/report.js'
import { closeSessions, openSessions, roundTrip, waitForSessions } from '../lib/sse-ops.js'
import { fmt, kb, median, mib, percentile, sortedCopy } from '../lib/stats.js'
import { ServerChild } from '../lib/processes.js'
import type { Servers, Settings } from './context.js'

const TRIALS = 3

interface MemoryFigures {
  /** Per session with `sessions` open, median over fresh processes (bytes). */
  rss: number
  heap: number
  /** Per session from `sessions` to `largeSessions` open: the slope, free of one-time costs (bytes). */
  rssMarginal: number
  heapMarginal: number
  baseRss: number
  trials: string[]
}

/**
 * Memory per open session, in fresh server processes (so that free space left by earlier work does not hide
 * the growth): one session and a few calls as warm-up, forced GC, baseline; open `sessions`, GC, measure; open
 * up to `largeSessions`, GC, measure. Median of TRIALS processes.
 */
async function measureMemory (name: string, script: string, viaHealth: boolean, settings: Settings): Promise<MemoryFigures> {
  const n = settings.sessions
  const large = Math.max(settings.largeSessions, n + 1)
  const rss: number[] = []
  const heap: number[] = []
  const rssMarginal: number[] = []
  const heapMarginal: number[] = []
  const bases: number[] = []
  const trials: string[] = []
  for (let trial = 0; trial < TRIALS; trial++) {
    const server = await ServerChild.start(`${name} (memory trial ${trial + 1})`, script, [], { BENCH_SSE_MAX_SESSIONS: String(large + 100) })
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
    try {
      const warm = await openSessions(server, 1)
      for (let i = 0; i < 5; i++) await roundTrip(server, warm[0], 1_000_000 + i, agent)
      await closeSessions(warm)
      if (await waitForSessions(server, viaHealth, 0) !== 0) throw new Error(`${server.name}: warm-up session did not close`)
      const base = await server.memory()
      const clients = await openSessions(server, n)
      if (await waitForSessions(server, viaHealth, n) !== n) throw new Error(`${server.name}: not all sessions registered`)
      const atN = await server.memory()
      clients.push(...await openSessions(server, large - n))
      if (await waitForSessions(server, viaHealth, large) !== large) throw new Error(`${server.name}: not all sessions registered`)
      const atLarge = await server.memory()
      await closeSessions(clients)
      rss.push((atN.rss - base.rss) / n)
      heap.push((atN.heapUsed - base.heapUsed) / n)
      rssMarginal.push((atLarge.rss - atN.rss) / (large - n))
      heapMarginal.push((atLarge.heapUsed - atN.heapUsed) / (large - n))
      bases.push(base.rss)
      trials.push(`RSS ${kb(rss[trial])} heap ${kb(heap[trial])} (${n}); ${kb(rssMarginal[trial])} / ${kb(heapMarginal[trial])} (${n}→${large})`)
    } finally {
      agent.destroy()
      await server.stop()
    }
  }
  return {
    rss: median(rss),
    heap: median(heap),
    rssMarginal: median(rssMarginal),
    heapMarginal: median(heapMarginal),
    baseRss: median(bases),
    trials
  }
}

interface RoundTrips { p50: number, p99: number, mean: number }

/** Sequential round trips, round-robin over `sessions` open sessions, POSTs on one keep-alive connection. */
async function measureRoundTrips (server: ServerChild, viaHealth: boolean, settings: Settings): Promise<RoundTrips> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  const clients = await openSessions(server, settings.sessions)
  try {
    if (await waitForSessions(server, viaHealth, settings.sessions) !== settings.sessions) throw new Error(`${server.name}: not all sessions registered`)
    for (let i = 0; i < 100; i++) await roundTrip(server, clients[i % clients.length], 2_000_000 + i, agent)
    const times: number[] = []
    for (let i = 0; i < settings.roundTrips; i++) times.push(await roundTrip(server, clients[i % clients.length], i + 1, agent))
    const sorted = sortedCopy(times)
    return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), mean: times.reduce((a, b) => a + b, 0) / times.length }
  } finally {
    agent.destroy()
    await closeSessions(clients)
    await waitForSessions(server, viaHealth, 0)
  }
}

/** M2: memory per open legacy SSE session and the POST → stream round trip, ours against the hand-made floor. */
export async function measureM2 (servers: Servers, settings: Settings, log: (line: string) => void): Promise<Section> {
  const cm = await measureMemory('ceiling (hand-made SSE)', 'ceiling-sse', false, settings)
  const om = await measureMemory('ours (SSE)', 'ours', true, settings)
  log(`M2 memory per session (${settings.sessions} open): ours RSS ${kb(om.rss)} heap ${kb(om.heap)}; ceiling RSS ${kb(cm.rss)} heap ${kb(cm.heap)}`)
  // Alternate, twice each, so that a burst of noise does not land on one side only.
  const cr1 = await measureRoundTrips(servers.ceilingSse, false, settings)
  const or1 = await measureRoundTrips(servers.oursSse, true, settings)
  const or2 = await measureRoundTrips(servers.oursSse, true, settings)
  const cr2 = await measureRoundTrips(servers.ceilingSse, false, settings)
  const c = { p50: (cr1.p50 + cr2.p50) / 2, p99: (cr1.p99 + cr2.p99) / 2, mean: (cr1.mean + cr2.mean) / 2 }
  const o = { p50: (or1.p50 + or2.p50) / 2, p99: (or1.p99 + or2.p99) / 2, mean: (or1.mean + or2.mean) / 2 }
  log(`M2 round trip p50: ours ${fmt(o.p50, 3)} ms, ceiling ${fmt(c.p50, 3)} ms`)
  const large = Math.max(settings.largeSessions, settings.sessions + 1)
  return {
    title: 'M2 legacy SSE',
    rows: [
      { measure: `M2 RSS per open SSE session (${settings.sessions} open, after GC, median of ${TRIALS} fresh processes)`, ours: kb(om.rss), ceiling: kb(cm.rss), ratio: ratio(om.rss, cm.rss), target: '≤ 30 KB (checked on the larger of RSS and heap)', pass: Math.max(om.rss, om.heap) <= 30 * 1024 },
      { measure: `M2 JS heap per open SSE session (${settings.sessions} open, after GC)`, ours: kb(om.heap), ceiling: kb(cm.heap), ratio: ratio(om.heap, cm.heap), target: '', pass: undefined },
      { measure: `M2 RSS / heap per session from ${settings.sessions} to ${large} open (slope, no one-time costs)`, ours: `${kb(om.rssMarginal)} / ${kb(om.heapMarginal)}`, ceiling: `${kb(cm.rssMarginal)} / ${kb(cm.heapMarginal)}`, ratio: ratio(om.heapMarginal, cm.heapMarginal), target: '(report; ratio of heap)', pass: undefined },
      { measure: 'M2 round trip POST /messages → event on the stream, p50 (ms)', ours: fmt(o.p50, 3), ceiling: fmt(c.p50, 3), ratio: ratio(o.p50, c.p50), target: '≤ 1.5×', pass: o.p50 <= 1.5 * c.p50 },
      { measure: 'M2 round trip p99 (ms)', ours: fmt(o.p99, 3), ceiling: fmt(c.p99, 3), ratio: ratio(o.p99, c.p99), target: '', pass: undefined }
    ],
    notes: [
      `Memory: per trial a fresh server child (--expose-gc, pinned); one session and 5 calls as warm-up, forced GC, baseline (median RSS ours ${mib(om.baseRss)}, ceiling ${mib(cm.baseRss)}); ${settings.sessions} sessions opened, forced GC, delta / ${settings.sessions}; then up to ${large} sessions for the slope. RSS moves in whole pages and reuses free heap, so at ${settings.sessions} sessions it is coarse (±5 KB a session); the heap figures are the steady ones.`,
      `Trials, ours: ${om.trials.join('; ')}.`,
      `Trials, ceiling: ${cm.trials.join('; ')}.`,
      `Round trip: ${settings.roundTrips} sequential tools/call (after 100 warm-up), round-robin over ${settings.sessions} open sessions, POSTs on one keep-alive connection, timed from the POST to the matching event on the stream, each answer checked byte for byte; two passes each, alternating, averaged (p50 ours ${fmt(or1.p50, 3)} / ${fmt(or2.p50, 3)} ms, ceiling ${fmt(cr1.p50, 3)} / ${fmt(cr2.p50, 3)} ms); means ours ${fmt(o.mean, 3)} ms, ceiling ${fmt(c.mean, 3)} ms.`,
      'The ceiling is a hand-made SSE server in bare Fastify: a Map of streams, no auth, no keep-alive timer, no idle sweeper, no per-session protocol state.'
    ]
  }
}
