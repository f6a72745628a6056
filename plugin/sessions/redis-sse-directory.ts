import type { RedisConnection } from '../redis/redis-connection.js'
import { redisNow } from '../redis/redis-scripts.js'
import type { SseDirectory, SseLocation } from './sse-directory.js'

export interface RedisSseDirectory extends SseDirectory {
  /** Writes this replica's entries again, with a fresh expiry: called with every heartbeat. */
  refresh: () => Promise<void>
}

/**
 * The legacy SSE streams of a cluster in Redis: a hash per session naming its replica and owner, and sorted sets of
 * all streams and of each owner's, all expiring with the liveness window. The replica holding a stream rewrites its
 * entries with every heartbeat (so they also come back after Redis restarted empty); a replica that dies stops,
 * and its entries are gone within the window.
 */
export function createRedisSseDirectory (redis: RedisConnection, replica: string, livenessMs: number): RedisSseDirectory {
  const { keys, commands } = redis
  const allKey = keys.key('sessions', 'sse')
  const entryKey = (id: string): string => keys.key('sse', id)
  const ownerKey = (ownerId: string): string => keys.key('owner', 'sse', ownerId)
  /** The streams this replica holds, with their owners. */
  const held = new Map<string, string | null>()
  let size = 0

  async function write (entries: Array<[string, string | null]>): Promise<void> {
    if (entries.length === 0) return
    const expiry = await redisNow(commands) + livenessMs
    const batch = commands.multi()
    for (const [id, ownerId] of entries) {
      batch.hset(entryKey(id), 'replica', replica, 'owner', ownerId ?? '')
      batch.pexpire(entryKey(id), livenessMs)
      batch.zadd(allKey, expiry, id)
      if (ownerId !== null) batch.zadd(ownerKey(ownerId), expiry, id)
    }
    await batch.exec()
  }

  async function countLive (key: string): Promise<number> {
    return await commands.zcount(key, await redisNow(commands), '+inf')
  }

  return {
    async announce (id, ownerId) {
      held.set(id, ownerId)
      try {
        await write([[id, ownerId]])
      } catch (error) {
        held.delete(id)
        throw error
      }
    },
    async locate (id): Promise<SseLocation | undefined> {
      const [location, owner] = await commands.hmget(entryKey(id), 'replica', 'owner')
      return location === null ? undefined : { replica: location, ownerId: owner === '' || owner === null ? null : owner }
    },
    async forget (id) {
      const ownerId = held.get(id)
      held.delete(id)
      const batch = commands.multi().del(entryKey(id)).zrem(allKey, id)
      if (ownerId !== undefined && ownerId !== null) batch.zrem(ownerKey(ownerId), id)
      await batch.exec()
    },
    countOwnedBy: async (ownerId) => await countLive(ownerKey(ownerId)),
    count: async () => (size = await countLive(allKey)),
    get size () { return size },
    async refresh () {
      await write([...held])
      size = await countLive(allKey)
    }
  }
}
