import type { FastifyBaseLogger } from 'fastify'
import type { McpConfig } from './options.js'
import type { Redis } from 'ioredis'
import { createLocalBroker, type Broker } from './cluster/broker.js'
import type { Cluster } from './cluster/create-cluster.js'
import { createMemorySessionStore } from './sessions/memory-session-store.js'
import { createMemorySessionStateStore } from './sessions/memory-session-state-store.js'
import type { SessionStore } from './sessions/session-store.js'
import type { SessionStateStore } from './sessions/session-state.js'
import type { SseDirectory } from './sessions/sse-directory.js'
import { createIdentityCap, type IdentityCap } from './sessions/identity-cap.js'
import { ListenStreams } from './sessions/listen-streams.js'
import type { SseSession } from './transports/legacy-sse/sse-session.js'

/** Where this host keeps its sessions, and how it reaches the other replicas (if any). */
export interface SessionBackends {
  broker: Broker
  /** The SSE streams this process holds (each process caps its own). */
  sseSessions: SessionStore<SseSession> | undefined
  sseDirectory: SseDirectory | undefined
  statefulSessions: SessionStateStore | undefined
  listenStreams: ListenStreams
  identityCap: IdentityCap
  /** Present in cluster mode. */
  cluster: Cluster | undefined
  close: () => Promise<void>
}

/** Half the smallest session cap of the transports in use: one caller never fills the server. */
function defaultCapPerIdentity (config: McpConfig): number {
  const caps = [config.streamable.maxListenStreams]
  if (config.routes.sse) caps.push(config.sse.maxSessions)
  if (config.routes.streamableHttp && config.streamable.sessions) caps.push(config.streamable.maxSessions)
  return Math.max(1, Math.floor(Math.min(...caps) / 2))
}

/**
 * The session stores of the configuration: in memory for one process; with `cluster.redisUrl` (or a `redis`
 * client), stateful sessions, the SSE directory and the message path in Redis, whose code is loaded only then.
 */
export async function createSessionBackends (config: McpConfig, redis: Redis | undefined, log: FastifyBaseLogger): Promise<SessionBackends> {
  const clusterOn = config.cluster.redisUrl !== undefined || redis !== undefined
  const cluster = clusterOn
    ? await (await import('./cluster/create-cluster.js')).createCluster({ ...config.cluster, client: redis, logger: log })
    : undefined
  const sseSessions = config.routes.sse
    ? createMemorySessionStore<SseSession>({
      maxSessions: config.sse.maxSessions,
      idleTimeoutMs: config.sse.idleTimeoutMs,
      onPrune: (session) => { log.info({ sessionId: session.id }, 'SSE session pruned after idle timeout') }
    })
    : undefined
  const sseDirectory = sseSessions === undefined ? undefined : cluster?.sseDirectory
  const statefulOptions = {
    maxSessions: config.streamable.maxSessions,
    idleTimeoutMs: config.streamable.idleTimeoutMs,
    eventStore: config.streamable.eventStore
  }
  const statefulSessions = !config.routes.streamableHttp || !config.streamable.sessions
    ? undefined
    : cluster === undefined ? createMemorySessionStateStore(statefulOptions) : await cluster.statefulSessions(statefulOptions)
  const listenStreams = new ListenStreams(config.streamable.maxListenStreams)
  const identityCap = createIdentityCap(config.maxSessionsPerIdentity ?? defaultCapPerIdentity(config), [
    sseDirectory?.countHeldBy ?? sseSessions?.countHeldBy,
    statefulSessions?.countHeldBy,
    listenStreams.countHeldBy
  ])
  return {
    broker: cluster?.broker ?? createLocalBroker(),
    sseSessions,
    sseDirectory,
    statefulSessions,
    listenStreams,
    identityCap,
    cluster,
    close: async () => { await cluster?.close() }
  }
}
