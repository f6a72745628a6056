import { clusterChurn, waitForValue, type ClusterChurnResult } from '../lib/cluster-ops.js'
import type { ServerChild } from '../lib/processes.js'
import type { BenchRedis } from '../lib/redis-server.js'
import { waitForSessions } from '../lib/sse-ops.js'
import { sleep } from '../lib/stats.js'
import type { MemoryReport } from '../servers/common.js'
import type { Settings } from './context.js'

/** The replicas run with the default liveness window: a directory entry nobody refreshes is gone after it. */
const LIVENESS_MS = 15_000

export interface ReplicaMemory { name: string, base: MemoryReport, after: MemoryReport, left: number }

export interface ChurnFigures {
  run: ClusterChurnResult
  replicas: ReplicaMemory[]
  /** Redis keys with no session open (heartbeat keys only), taken before any session was opened. */
  baselineKeys: number
  /** Right after the warm-up churn (not waited for: idle time before the baseline lets V8 shrink its heap). */
  warmupKeys: number
  /** After the measured churn, once every stream was closed and Redis was back to baseline (or 10 s passed). */
  afterKeys: { value: number, waitedMs: number }
  /** Keys left over the baseline after the wait, to say what leaked. */
  leftoverKeys: string[]
  /** When keys were left: the count once the liveness window has passed since the churn ended (expiring entries gone). */
  afterLiveness: { value: number, keys: string[] } | undefined
  redisMemory: { base: number, after: number }
}

/** Every replica counts 0 sessions, then forced GC and memory on each. */
async function settle (replicas: ServerChild[]): Promise<{ memory: MemoryReport[], left: number[] }> {
  const left = await Promise.all(replicas.map(async (replica) => await waitForSessions(replica, true, 0)))
  await sleep(200)
  return { memory: await Promise.all(replicas.map(async (replica) => await replica.memory())), left }
}

/**
 * The M4 churn across replicas: a warm-up churn of `churnWarmup` sessions per replica (each reaches the working
 * size M4's one process reaches: V8 grows its young generation over the first few thousand), GC, baseline at once
 * (a few idle seconds and V8's memory reducer shrinks the heap again, which the churn then regrows);
 * then `churn` sessions opened on alternating replicas, every tenth with one relayed round trip; wait until both
 * replicas count none and Redis is back to its key count without sessions; GC; compare.
 */
export async function measureChurn (replicas: ServerChild[], redis: BenchRedis, baselineKeys: number, settings: Settings): Promise<ChurnFigures> {
  await clusterChurn(replicas, settings.churnWarmup * replicas.length)
  const base = await settle(replicas)
  const warmupKeys = await redis.keyCount()
  const redisBase = (await redis.counters()).usedMemory
  const run = await clusterChurn(replicas, settings.churn)
  const churnEnded = performance.now()
  const after = await settle(replicas)
  const afterKeys = await waitForValue(redis.keyCount, baselineKeys)
  const leftoverKeys = afterKeys.value === baselineKeys ? [] : await redis.someKeys(10)
  let afterLiveness: ChurnFigures['afterLiveness']
  if (afterKeys.value !== baselineKeys) {
    // Left-overs that expire are late; left-overs that outlive the window leak.
    await sleep(Math.max(0, LIVENESS_MS + 1_000 - (performance.now() - churnEnded)))
    afterLiveness = { value: await redis.keyCount(), keys: await redis.someKeys(10) }
  }
  return {
    run,
    replicas: replicas.map((replica, i) => ({ name: replica.name, base: base.memory[i], after: after.memory[i], left: after.left[i] })),
    baselineKeys,
    warmupKeys,
    afterKeys,
    leftoverKeys,
    afterLiveness,
    redisMemory: { base: redisBase, after: (await redis.counters()).usedMemory }
  }
}
