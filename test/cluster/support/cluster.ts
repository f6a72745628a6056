import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { REPO_ROOT } from '../../helpers/spawn-server.js'
import { startNginx, type Nginx } from './nginx.js'
import { startRedisServer, type RedisServer } from './redis-server.js'
import { CLUSTER_TOKEN, startReplicas, type Replica, type ReplicaOptions } from './replicas.js'

/** The compiled tools module every replica of these tests serves (test/fixtures/cluster-tools.ts). */
export const CLUSTER_TOOLS = join(REPO_ROOT, 'dist', 'test', 'fixtures', 'cluster-tools.js')

/** A short liveness window, so that a dead replica's records go within a test's patience. */
export const LIVENESS_MS = 3_000

export const AUTH = { authorization: `Bearer ${CLUSTER_TOKEN}` }

export interface ClusterOptions extends ReplicaOptions {
  /** How many replicas; default 3. */
  replicas?: number
  /** Put nginx (plain round robin) in front; default true. */
  nginx?: boolean
  /** Start the replicas with `--stateful`. */
  stateful?: boolean
}

export interface TestCluster {
  redis: RedisServer
  replicas: Replica[]
  /** Undefined when started with `nginx: false`. */
  nginx: Nginx | undefined
  /** The load balancer's base URL (nginx must be on). */
  readonly lbUrl: string
}

/**
 * A Redis, `count` replicas of `node server` in cluster mode on it (with the cluster tools, a short liveness
 * window and the shared token and request-state secret), and nginx in front; all stopped when the test ends.
 */
export async function startCluster (t: TestContext, options: ClusterOptions = {}): Promise<TestCluster> {
  const redis = await startRedisServer(t)
  const replicas = await startReplicas(t, options.replicas ?? 3, {
    ...options,
    args: ['--tools', CLUSTER_TOOLS, ...(options.stateful === true ? ['--stateful'] : []), ...(options.args ?? [])],
    env: { MCP_REDIS_URL: redis.url, MCP_CLUSTER_LIVENESS_MS: String(LIVENESS_MS), ...options.env }
  })
  const nginx = options.nginx === false ? undefined : await startNginx(t, { upstreams: replicas.map((replica) => replica.port) })
  return {
    redis,
    replicas,
    nginx,
    get lbUrl () {
      if (nginx === undefined) throw new Error('this cluster has no nginx')
      return nginx.baseUrl
    }
  }
}

/** The replica whose address an `X-Upstream` header names. */
export function replicaAt (replicas: Replica[], upstream: string | null | undefined): Replica {
  const found = replicas.find((replica) => replica.address === upstream)
  if (found === undefined) throw new Error(`no replica at ${String(upstream)}`)
  return found
}

export async function sleep (ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms))
}
