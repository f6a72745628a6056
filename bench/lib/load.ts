import autocannon from 'autocannon'
import { benchCall, type BenchCall } from '../servers/common.js'
import { request } from './http.js'
import { Samples, percentile } from './stats.js'
import type { ServerChild } from './processes.js'

export interface LoadRun {
  target: string
  seconds: number
  requests: number
  /** Socket errors + timeouts + non-2xx + bodies that were not the expected bytes. */
  errors: number
  non2xx: number
  mismatches: number
  latencies: Samples
  /** Share of one core the server used during the run (1 = a full core). */
  serverCpu: number
  /** Share of one core the load generator (this process) used: near 1 means it, not the server, was the limit. */
  loadCpu: number
  /** Server CPU time per completed request, µs. */
  cpuPerRequestUs: number
  /** The run on the server's monotonic clock (µs), as V8 CPU profiles count time. */
  window: { fromUs: number, toUs: number }
}

export interface LoadSummary {
  target: string
  reqPerSec: number
  p50: number
  p99: number
  errors: number
  serverCpu: number
  /** Server CPU time per completed request (µs): the figure least moved by a noisy neighbour. */
  cpuPerRequestUs: number
  runs: LoadRun[]
}

const LEGACY_CALL = benchCall('2025')

/** Checks, before any load, that the server answers the benchmarked call with exactly the expected bytes. */
export async function checkAnswer (server: ServerChild, call: BenchCall = LEGACY_CALL): Promise<void> {
  const answer = await request(`${server.baseUrl}/mcp`, { method: 'POST', headers: call.headers, body: call.body })
  if (answer.status !== 200 || answer.body !== call.expected || !String(answer.headers['content-type']).startsWith('application/json')) {
    throw new Error(`${server.name} answered the benchmarked ${call.era} tools/call wrongly: ${answer.status} ${String(answer.headers['content-type'])}\n${answer.body}\nexpected:\n${call.expected}`)
  }
}

/**
 * `tools/call` load on `POST /mcp` with autocannon. Every response body is compared with the expected bytes
 * (a mismatch is an error); latencies are recorded per response, to the microsecond.
 */
export async function load (server: ServerChild, seconds: number, connections: number, call: BenchCall = LEGACY_CALL, label = server.name): Promise<LoadRun> {
  const latencies = new Samples()
  const cpuBefore = await server.cpu()
  const loadBefore = process.cpuUsage()
  const loadStarted = performance.now()
  const instance = autocannon({
    url: `${server.baseUrl}/mcp`,
    method: 'POST',
    headers: call.headers,
    body: call.body,
    connections,
    duration: seconds,
    timeout: 10,
    verifyBody: (body) => body === call.expected
  })
  instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
    if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime)
  })
  const result = await instance
  const loadUsed = process.cpuUsage(loadBefore)
  const loadCpu = (loadUsed.user + loadUsed.system) / 1000 / (performance.now() - loadStarted)
  const cpuAfter = await server.cpu()
  return {
    target: label,
    seconds: result.duration,
    requests: result.requests.total,
    errors: result.errors + result.non2xx + result.mismatches,
    non2xx: result.non2xx,
    mismatches: result.mismatches,
    latencies,
    serverCpu: (cpuAfter.cpuMicros - cpuBefore.cpuMicros) / 1000 / (cpuAfter.at - cpuBefore.at),
    loadCpu,
    cpuPerRequestUs: (cpuAfter.cpuMicros - cpuBefore.cpuMicros) / Math.max(1, result.requests.total),
    window: { fromUs: cpuBefore.monoUs, toUs: cpuAfter.monoUs }
  }
}

export function summarize (target: string, runs: LoadRun[]): LoadSummary {
  const all = new Samples()
  for (const run of runs) all.append(run.latencies)
  const sorted = all.sorted()
  const seconds = runs.reduce((sum, run) => sum + run.seconds, 0)
  return {
    target,
    reqPerSec: runs.reduce((sum, run) => sum + run.requests, 0) / seconds,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    errors: runs.reduce((sum, run) => sum + run.errors, 0),
    serverCpu: runs.reduce((sum, run) => sum + run.serverCpu * run.seconds, 0) / seconds,
    cpuPerRequestUs: runs.reduce((sum, run) => sum + run.cpuPerRequestUs * run.requests, 0) / Math.max(1, runs.reduce((sum, run) => sum + run.requests, 0)),
    runs
  }
}
