import type { ServerChild } from '../lib/processes.js'
import { envNumber } from '../lib/stats.js'

/** Run settings, all overridable from the environment (see bench/README.md). */
export interface Settings {
  /** M1: measured seconds per target and process pair, split over `rounds` alternating rounds. */
  duration: number
  /** M1: pairs of server processes (ours, ceiling) measured in turn. */
  m1Processes: number
  warmup: number
  rounds: number
  connections: number
  /** M4: measured seconds of load with the idle sessions open. */
  m4Duration: number
  /** M2/M4: sessions held open. */
  sessions: number
  /** M2: sessions for the memory slope (per-session cost without one-time costs). */
  largeSessions: number
  /** M2: measured sequential round trips (after 100 warm-up ones). */
  roundTrips: number
  /** M4: sessions opened and closed. */
  churn: number
  /** M4: sessions opened and closed before the baseline is taken. */
  churnWarmup: number
  /** M3: cold starts per entry (median reported), after one discarded warm-up start. */
  coldRuns: number
  /** M6: pairs of server processes (cluster mode on, off) for the stateless throughput comparison. */
  m6Processes: number
  /** M6: messages per pass of the relay CPU measurement (10 at a time). */
  relayMessages: number
}

export function readSettings (): Settings {
  return {
    duration: envNumber('BENCH_DURATION', 10),
    warmup: envNumber('BENCH_WARMUP', 3),
    rounds: Math.max(1, Math.round(envNumber('BENCH_ROUNDS', 5))),
    m1Processes: Math.max(1, Math.round(envNumber('BENCH_M1_PROCESSES', 3))),
    connections: Math.max(1, Math.round(envNumber('BENCH_CONNECTIONS', 10))),
    m4Duration: envNumber('BENCH_M4_DURATION', 5),
    sessions: Math.max(1, Math.round(envNumber('BENCH_SESSIONS', 50))),
    largeSessions: Math.max(2, Math.round(envNumber('BENCH_SESSIONS_LARGE', 500))),
    roundTrips: Math.max(10, Math.round(envNumber('BENCH_ROUND_TRIPS', 500))),
    churn: Math.max(100, Math.round(envNumber('BENCH_CHURN', 10_000))),
    churnWarmup: Math.max(300, Math.round(envNumber('BENCH_CHURN_WARMUP', 4000))),
    coldRuns: Math.max(1, Math.round(envNumber('BENCH_COLD_RUNS', 5))),
    m6Processes: Math.max(1, Math.round(envNumber('BENCH_M6_PROCESSES', 2))),
    relayMessages: Math.max(100, Math.round(envNumber('BENCH_RELAY_MESSAGES', 2000)))
  }
}

export function describeSettings (s: Settings): string {
  return `M1 ${s.connections} connections, ${s.m1Processes} process pairs, each ${s.warmup} s warm-up + ${s.duration} s measured per target in ${s.rounds} alternating rounds; ` +
    `M2 ${s.sessions} sessions (slope to ${s.largeSessions}), ${s.roundTrips} round trips; M3 median of ${s.coldRuns}; ` +
    `M4 ${s.m4Duration} s load with ${s.sessions} idle sessions, ${s.churn.toLocaleString('en-US')} sessions churned after a ${s.churnWarmup.toLocaleString('en-US')}-session warm-up churn; ` +
    `M6 (cluster) ${s.roundTrips} round trips per pass, ${s.relayMessages.toLocaleString('en-US')} messages per CPU pass, ${s.m6Processes} on/off process pairs as in M1, the M4 churn across 2 replicas`
}

/** The long-running server children, each alone on the server core while it is measured. */
export interface Servers {
  /** Our plugin: M1 load and M4 load with idle sessions. */
  ours: ServerChild
  /** Bare Fastify route: the M1 ceiling. */
  ceiling: ServerChild
  /** Our plugin, fresh: M2 memory and round trips, M4 churn. */
  oursSse: ServerChild
  /** Hand-made SSE server: the M2/M4 floor. */
  ceilingSse: ServerChild
}
