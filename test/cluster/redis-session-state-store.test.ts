import { before, after } from 'node:test'
import { connectRedis, type RedisConnection } from '../../plugin/redis/redis-connection.js'
import { createRedisSessionStateStore } from '../../plugin/sessions/redis-session-state-store.js'
import type { SessionStateStore } from '../../plugin/sessions/session-state.js'
import { sessionStateContract } from '../sessions/session-state-contract.js'
import { capturedLogger } from './support/captured-logger.js'
import { startRedisServer, type RedisServer } from './support/redis-server.js'

// Two replicas' stores on one real Redis: everything the memory store promises holds across them.
let redis: RedisServer
const connections: RedisConnection[] = []

before(async (t) => {
  // startRedisServer stops the server with the context it is given: this file's `before` context ends with the file.
  redis = await startRedisServer(t as never)
})
after(async () => { await Promise.all(connections.map(async (connection) => { await connection.close() })) })

sessionStateContract('Redis session state store', async (t, limits) => {
  const prefix = `contract-${Math.random().toString(36).slice(2)}:`
  const stores: SessionStateStore[] = []
  let first: RedisConnection | undefined
  for (let replica = 0; replica < 2; replica++) {
    const connection = await connectRedis({ url: redis.url, keyPrefix: prefix, logger: capturedLogger().logger })
    connections.push(connection)
    first ??= connection
    stores.push(await createRedisSessionStateStore(connection, {
      maxSessions: limits.maxSessions ?? 10,
      idleTimeoutMs: limits.idleTimeoutMs ?? 60_000,
      eventStore: { maxEvents: limits.maxEvents ?? 100, maxBytes: limits.maxBytes ?? 1024 * 1024 },
      logger: capturedLogger().logger
    }))
  }
  // The holders the contract uses name a replica that keeps its heartbeat.
  await first?.commands.set(first.keys.key('replica', 'live-replica'), '1', 'PX', 60_000)
  t.after(async () => { await Promise.all(stores.map(async (store) => { await store.close() })) })
  return { store: stores[0], peer: stores[1] }
})
