import type { Redis } from 'ioredis'
import type { RedisConnection } from '../redis/redis-connection.js'
import type { RedisLogger } from '../redis/redis-connection-state.js'
import type { EventLogLimits } from './event-log.js'
import type {
  SessionEndReason, SessionEvent, SessionSignal, SessionState, SessionStateStore, StreamStatus
} from './session-state.js'
import * as scripts from './redis-session-scripts.js'
import { SessionGoneError } from './session-state.js'
import { redisNow, scriptRunner } from '../redis/redis-scripts.js'

export interface RedisSessionStateOptions {
  maxSessions: number
  idleTimeoutMs: number
  eventStore: EventLogLimits
  logger: RedisLogger
}

interface LogEntry { s: string, q: number, d: string, f: boolean }

/** How often the sweeper looks for sessions that expired, and refreshes the cluster-wide count (ms). */
const SWEEP_MS = 5_000

/**
 * Stateful sessions shared by every replica through Redis (or Valkey): the state, subscriptions, the replay log
 * and its streams, the holder of each standalone stream (see redis-session-scripts.ts for the keys). Every
 * process hears every session's end on one channel, and each session's events on its own channel while it
 * carries a connection of that session. No token or secret is ever written: owners are identity ids.
 */
export async function createRedisSessionStateStore (redis: RedisConnection, options: RedisSessionStateOptions): Promise<SessionStateStore> {
  const { maxSessions, idleTimeoutMs, eventStore, logger } = options
  const keys = redis.keys
  const commands: Redis = redis.commands
  const sessionsKey = keys.key('sessions', 'http')
  const endedChannel = keys.channel('sessions', 'http', 'ended')
  const heartbeatPrefix = keys.key('replica', '')
  const subscribersPrefix = keys.key('subscribers', '')
  const endListeners: Array<(id: string, reason: SessionEndReason) => void> = []
  let size = 0

  const hashPrefix = keys.key('s', '')
  const hash = (id: string): string => hashPrefix + id
  const log = (id: string): string => `${hashPrefix}${id}:log`
  const channel = (id: string): string => keys.channel('s', id)
  // Quota keys and session ids go into key names as they are (the scripts build the same names).
  const quotaPrefix = keys.key('quota', 'http', '')
  const quotaSet = (quotaKey: string): string => quotaPrefix + quotaKey
  const ttl = String(idleTimeoutMs)

  const run = scriptRunner(commands)

  async function quotaKeyOf (id: string): Promise<string | undefined> {
    const state = await commands.hget(hash(id), 'state')
    return state === null ? undefined : (JSON.parse(state) as SessionState).quotaKey
  }

  function announceEnd (id: string, reason: SessionEndReason): void {
    for (const listener of endListeners) {
      try {
        listener(id, reason)
      } catch (error) {
        logger.error({ err: error, sessionId: id }, 'A session-end listener threw')
      }
    }
  }

  async function end (id: string, reason: SessionEndReason): Promise<boolean> {
    const quotaKey = await quotaKeyOf(id)
    const ended = await run(scripts.END, [hash(id), log(id), sessionsKey, quotaKey === undefined ? '' : quotaSet(quotaKey)], [id]) === 1
    if (ended) await redis.publish(endedChannel, JSON.stringify({ id, reason }))
    return ended
  }

  /** Sessions whose expiry passed are ended once, by whichever replica's sweeper sees them first. */
  async function sweep (): Promise<void> {
    const now = await redisNow(commands)
    const expired = await commands.zrangebyscore(sessionsKey, '-inf', `(${now}`, 'LIMIT', 0, 100)
    for (const id of expired) {
      // The hash outlives its score only if its expiry was refreshed meanwhile: then it is not idle.
      if (await commands.exists(hash(id)) === 1) continue
      await end(id, 'idle')
    }
    size = await commands.zcount(sessionsKey, now, '+inf')
  }

  await redis.subscribe(endedChannel, (message) => {
    const { id, reason } = JSON.parse(message) as { id: string, reason: SessionEndReason }
    announceEnd(id, reason)
  })
  const sweeper = setInterval(() => {
    sweep().catch(() => { /* Redis down: the connection's state change is logged once; try again next time */ })
  }, Math.min(SWEEP_MS, Math.max(Math.floor(idleTimeoutMs / 4), 50)))
  sweeper.unref()

  /** `result`, unless it is what the script answers for a session that ended. */
  function present<T> (id: string, result: T, gone: T): T {
    if (result === gone) throw new SessionGoneError(id)
    return result
  }

  return {
    get size () { return size },
    maxSessions,
    idleTimeoutMs,
    async create (state) {
      const created = await run(scripts.CREATE, [hash(state.id), log(state.id), sessionsKey, quotaSet(state.quotaKey)], [state.id, JSON.stringify(state), ttl, maxSessions]) === 1
      if (created) size++
      return created
    },
    async load (id, ownerId) {
      const text = await run(scripts.LOAD, [hash(id), log(id), sessionsKey], [id, ttl, quotaPrefix]) as string | null
      if (text === null) return undefined
      const state = JSON.parse(text) as SessionState
      return state.ownerId === ownerId ? state : undefined
    },
    async update (id, patch) {
      present(id, await run(scripts.UPDATE, [hash(id)], [JSON.stringify(patch)]), 0)
    },
    async touch (id) {
      await run(scripts.TOUCH, [hash(id), log(id), sessionsKey], [id, ttl])
    },
    async subscribe (id, uri, max) {
      return present(id, await run(scripts.SUBSCRIPTION, [hash(id), subscribersPrefix + uri], [id, `sub:${uri}`, 1, max, ttl]), 0) === 1
    },
    async unsubscribe (id, uri) {
      present(id, await run(scripts.SUBSCRIPTION, [hash(id), subscribersPrefix + uri], [id, `sub:${uri}`, 0, 0, ttl]), 0)
    },
    async audience (uri) {
      if (uri === undefined) return await commands.zrangebyscore(sessionsKey, await redisNow(commands), '+inf')
      const subscribers = await commands.smembers(subscribersPrefix + uri)
      if (subscribers.length === 0) return []
      // A session that expired (rather than ended) left its subscriptions in the index: they go now.
      const alive = await Promise.all(subscribers.map(async (id) => await commands.exists(hash(id)) === 1))
      const gone = subscribers.filter((_id, index) => !alive[index])
      if (gone.length > 0) await commands.srem(subscribersPrefix + uri, ...gone)
      return subscribers.filter((_id, index) => alive[index])
    },
    end,
    async count () {
      size = await commands.zcount(sessionsKey, await redisNow(commands), '+inf')
      return size
    },
    async countHeldBy (quotaKey) {
      return await commands.zcount(quotaSet(quotaKey), await redisNow(commands), '+inf')
    },
    async evictIdle (quotaKey, idleForMs) {
      const id = await run(scripts.EVICT_IDLE, [quotaSet(quotaKey), sessionsKey], [ttl, idleForMs, hashPrefix, heartbeatPrefix]) as string | null
      if (id === null) return undefined
      await redis.publish(endedChannel, JSON.stringify({ id, reason: 'evicted' }))
      return id
    },
    onEnd (listener) { endListeners.push(listener) },

    async openStream (id, replica, requestId) {
      const n = await run(scripts.OPEN_STREAM, [hash(id)], [replica, JSON.stringify(requestId)]) as number
      return String(present(id, n, 0))
    },
    async append (id, streamId, data, final) {
      const seq = await run(scripts.APPEND, [hash(id), log(id), sessionsKey, channel(id)],
        [id, streamId, data, final ? 1 : 0, eventStore.maxEvents, eventStore.maxBytes, ttl, 0]) as number
      present(id, seq, 0)
      return { streamId, seq, data, final }
    },
    async finishStream (id, streamId) {
      await run(scripts.FINISH_STREAM, [hash(id), channel(id)], [streamId])
    },
    async reserve (id) {
      return present(id, await run(scripts.RESERVE, [hash(id)], []) as number, 0)
    },
    async replay (id, streamId, afterSeq) {
      const [entries, lastDropped] = await Promise.all([
        commands.lrange(log(id), 0, -1),
        commands.hget(hash(id), `drop:${streamId}`)
      ])
      const events: SessionEvent[] = []
      for (const text of entries) {
        const entry = JSON.parse(text) as LogEntry
        if (entry.s === streamId && entry.q > afterSeq) events.push({ streamId, seq: entry.q, data: entry.d, final: entry.f })
      }
      return { events, gap: Number(lastDropped ?? 0) > afterSeq }
    },
    async status (id, streamId): Promise<StreamStatus> {
      const [running, kept, streams] = await commands.hmget(hash(id), `run:${streamId}`, `kept:${streamId}`, 'streams')
      if (running !== null) return { state: 'running', ...(JSON.parse(running) as { replica: string, requestId: string | number }) }
      if (Number(kept ?? 0) > 0) return { state: 'finished' }
      return /^[1-9]\d*$/.test(streamId) && Number(streamId) <= Number(streams ?? 0) ? { state: 'released' } : { state: 'unknown' }
    },
    async finishLost (id, streamId, data) {
      await run(scripts.APPEND, [hash(id), log(id), sessionsKey, channel(id)],
        [id, streamId, data, 1, eventStore.maxEvents, eventStore.maxBytes, ttl, 1])
    },
    async tail (id, listener) {
      const onMessage = (message: string): void => { listener(JSON.parse(message) as SessionSignal) }
      await redis.subscribe(channel(id), onMessage)
      return () => { redis.unsubscribe(channel(id), onMessage).catch(() => {}) }
    },
    async takeOver (id, streamId, holder) {
      present(id, await run(scripts.TAKE_OVER, [hash(id), channel(id)], [streamId, holder]), 0)
    },
    async claimStandalone (id, holder) {
      const [claimed, first] = await run(scripts.CLAIM_STANDALONE, [hash(id)], [holder, heartbeatPrefix]) as number[]
      if (claimed === -1) throw new SessionGoneError(id)
      return { claimed: claimed === 1, first: first === 1 }
    },
    async releaseStandalone (id, holder) {
      await run(scripts.RELEASE_STANDALONE, [hash(id)], [holder])
    },
    // Sessions outlive this replica: the others go on serving them.
    async leave () {},
    async close () {
      clearInterval(sweeper)
    }
  }
}
