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
  const quotaSet = (quotaKey: string): string => keys.key('quota', 'sse', quotaKey)
  /** The streams this replica holds, with their owners and quota keys. */
  const held = new Map<string, { ownerId: string | null, quotaKey: string }>()
  let size = 0

  /**
   * Writes the entries of `ids` this replica still holds. The batch is built after the clock was read, from what
   * is held then: a session forgotten meanwhile is not written back (its forget() went out first on this one
   * connection). Expired members of the sorted sets go in the same batch, and the sets expire with the window
   * when no replica writes them any more (a whole cluster that stopped leaves nothing behind).
   */
  async function write (ids: Iterable<string>): Promise<void> {
    const now = await redisNow(commands)
    const expiry = now + livenessMs
    const batch = commands.multi().zremrangebyscore(allKey, '-inf', now)
    const quotaKeys = new Set<string>()
    for (const id of ids) {
      const entry = held.get(id)
      if (entry === undefined) continue
      batch.hset(entryKey(id), 'replica', replica, 'owner', entry.ownerId ?? '')
      batch.pexpire(entryKey(id), livenessMs)
      batch.zadd(allKey, expiry, id)
      batch.zadd(quotaSet(entry.quotaKey), expiry, id)
      quotaKeys.add(entry.quotaKey)
    }
    for (const quotaKey of quotaKeys) batch.zremrangebyscore(quotaSet(quotaKey), '-inf', now).pexpire(quotaSet(quotaKey), livenessMs)
    if (quotaKeys.size > 0) batch.pexpire(allKey, livenessMs)
    await batch.exec()
  }

  async function countLive (key: string): Promise<number> {
    return await commands.zcount(key, await redisNow(commands), '+inf')
  }

  return {
    async announce (id, ownerId, quotaKey) {
      held.set(id, { ownerId, quotaKey })
      try {
        await write([id])
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
      const entry = held.get(id)
      held.delete(id)
      const batch = commands.multi().del(entryKey(id)).zrem(allKey, id)
      if (entry !== undefined) batch.zrem(quotaSet(entry.quotaKey), id)
      await batch.exec()
    },
    countHeldBy: async (quotaKey) => await countLive(quotaSet(quotaKey)),
    count: async () => (size = await countLive(allKey)),
    get size () { return size },
    async refresh () {
      await write([...held.keys()])
      size = await countLive(allKey)
    }
  }
}
