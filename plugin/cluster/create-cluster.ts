import type { Redis } from 'ioredis'
import { connectRedis } from '../redis/redis-connection.js'
import type { RedisLogger } from '../redis/redis-connection-state.js'
import { createRedisBroker } from './redis-broker.js'
import type { Broker } from './broker.js'
import { createRedisSseDirectory } from '../sessions/redis-sse-directory.js'
import type { SseDirectory } from '../sessions/sse-directory.js'
import { createRedisSessionStateStore } from '../sessions/redis-session-state-store.js'
import type { SessionStateStore } from '../sessions/session-state.js'
import type { EventLogLimits } from '../sessions/event-log.js'

export interface ClusterSettings {
  /** `redis://[user:password@]host:port/db`, or `rediss://` for TLS; or `client`. */
  redisUrl?: string
  /** A Redis client the host already has: only duplicated, with every setting it carries. */
  client?: Redis
  keyPrefix: string
  livenessMs: number
  relayTimeoutMs: number
  logger: RedisLogger
}

/** What cluster mode adds to a host: the message path, the SSE directory, shared stateful sessions. */
export interface Cluster {
  readonly broker: Broker
  readonly sseDirectory: SseDirectory
  /** `host:port` of Redis, for logs and status. */
  readonly address: string
  /** The command connection and the key prefix, for counters that other modules keep in Redis (rate limits). */
  readonly counters: { redis: Redis, keyPrefix: string }
  /** The shared store of stateful sessions. */
  statefulSessions: (options: { maxSessions: number, idleTimeoutMs: number, eventStore: EventLogLimits }) => Promise<SessionStateStore>
  close: () => Promise<void>
}

/**
 * Connects to Redis (failing at once, with a line naming host and port, when it cannot) and starts this replica's
 * heartbeat: at a third of the liveness window, the replica's key and its SSE entries are written again. Loaded
 * only when cluster mode is configured.
 */
export async function createCluster (settings: ClusterSettings): Promise<Cluster> {
  const redis = await connectRedis({ url: settings.redisUrl, client: settings.client, keyPrefix: settings.keyPrefix, logger: settings.logger })
  const broker = await createRedisBroker(redis, { livenessMs: settings.livenessMs, requestTimeoutMs: settings.relayTimeoutMs, logger: settings.logger })
  const sseDirectory = createRedisSseDirectory(redis, broker.replica, settings.livenessMs)
  const stores: SessionStateStore[] = []
  const heartbeat = setInterval(() => {
    // While Redis is down this fails; the connection logs that once. The next beat after it is back restores all.
    Promise.all([broker.beat(), sseDirectory.refresh()]).catch(() => {})
  }, Math.max(Math.floor(settings.livenessMs / 3), 100))
  heartbeat.unref()
  return {
    broker,
    sseDirectory,
    address: redis.address,
    counters: { redis: redis.commands, keyPrefix: redis.keys.prefix },
    async statefulSessions (options) {
      const store = await createRedisSessionStateStore(redis, { ...options, logger: settings.logger })
      stores.push(store)
      return store
    },
    async close () {
      clearInterval(heartbeat)
      await Promise.all(stores.map(async (store) => { await store.close() }))
      await broker.close().catch(() => {})
      await redis.close()
    }
  }
}
