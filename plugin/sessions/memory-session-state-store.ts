import type { JsonRpcId } from '../protocol/jsonrpc.js'
import { EventLog, type EventLogLimits, type LoggedEvent } from './event-log.js'
import {
  SessionGoneError,
  type SessionEndReason, type SessionEvent, type SessionSignal, type SessionState, type SessionStatePatch, type SessionStateStore, type StreamStatus
} from './session-state.js'

export interface MemorySessionStateOptions {
  maxSessions: number
  idleTimeoutMs: number
  eventStore: EventLogLimits
}

interface MemorySession {
  state: SessionState
  subscriptions: Set<string>
  lastActivity: number
  log: EventLog<string>
  lastStream: number
  running: Map<string, { replica: string, requestId: JsonRpcId }>
  /** Events each stream has in the log, and the newest of its events the log let go. */
  kept: Map<string, number>
  lastDropped: Map<string, number>
  tails: Set<(signal: SessionSignal) => void>
  standaloneHolder: string | undefined
  standaloneConnected: boolean
}

function toSessionEvent (event: LoggedEvent<string>, final: boolean): SessionEvent {
  return { streamId: event.stream, seq: event.seq, data: event.data, final }
}

/** Stateful sessions of one process: Maps, an event log per session, and an idle sweeper that never holds the process. */
export function createMemorySessionStateStore (options: MemorySessionStateOptions): SessionStateStore {
  const { maxSessions, idleTimeoutMs, eventStore } = options
  const sessions = new Map<string, MemorySession>()
  const endListeners: Array<(id: string, reason: SessionEndReason) => void> = []
  /** Which events are final, by session and seq: the log keeps data only. */
  const finals = new WeakMap<LoggedEvent<string>, true>()
  let sweeper: NodeJS.Timeout | undefined

  function sweep (): void {
    const cutoff = Date.now() - idleTimeoutMs
    for (const [id, session] of sessions) if (session.lastActivity <= cutoff) end(id, 'idle')
  }

  function startSweeper (): void {
    if (sweeper !== undefined) return
    sweeper = setInterval(sweep, Math.min(Math.max(Math.floor(idleTimeoutMs / 4), 10), 60_000))
    sweeper.unref()
  }

  function stopSweeperWhenEmpty (): void {
    if (sessions.size > 0 || sweeper === undefined) return
    clearInterval(sweeper)
    sweeper = undefined
  }

  function end (id: string, reason: SessionEndReason): boolean {
    const session = sessions.get(id)
    if (session === undefined) return false
    sessions.delete(id)
    session.log.clear()
    stopSweeperWhenEmpty()
    for (const listener of endListeners) listener(id, reason)
    return true
  }

  function newSession (state: SessionState): MemorySession {
    const session: MemorySession = {
      state,
      subscriptions: new Set(),
      lastActivity: Date.now(),
      log: new EventLog<string>(eventStore, (event) => {
        const kept = (session.kept.get(event.stream) ?? 1) - 1
        if (kept > 0) session.kept.set(event.stream, kept)
        else session.kept.delete(event.stream)
        if (event.seq > (session.lastDropped.get(event.stream) ?? 0)) session.lastDropped.set(event.stream, event.seq)
      }),
      lastStream: 0,
      running: new Map(),
      kept: new Map(),
      lastDropped: new Map(),
      tails: new Set(),
      standaloneHolder: undefined,
      standaloneConnected: false
    }
    return session
  }

  function signal (session: MemorySession, message: SessionSignal): void {
    for (const listener of session.tails) listener(message)
  }

  function mustGet (id: string): MemorySession {
    const session = sessions.get(id)
    if (session === undefined) throw new SessionGoneError(id)
    return session
  }

  function append (session: MemorySession, streamId: string, data: string, final: boolean): SessionEvent {
    session.lastActivity = Date.now()
    // Counted before the append: the log may let the event go at once (too large, or no room kept at all).
    session.kept.set(streamId, (session.kept.get(streamId) ?? 0) + 1)
    const logged = session.log.append(streamId, data)
    if (final) {
      finals.set(logged, true)
      session.running.delete(streamId)
    }
    const event = toSessionEvent(logged, final)
    signal(session, { type: 'event', event })
    return event
  }

  return {
    get size () { return sessions.size },
    maxSessions,
    idleTimeoutMs,
    async create (state) {
      if (sessions.size >= maxSessions) return false
      sessions.set(state.id, newSession(state))
      startSweeper()
      return true
    },
    async load (id, ownerId) {
      const session = sessions.get(id)
      if (session === undefined || session.state.ownerId !== ownerId) return undefined
      session.lastActivity = Date.now()
      return session.state
    },
    async update (id, patch: SessionStatePatch) {
      const session = mustGet(id)
      session.state = { ...session.state, ...patch }
    },
    async touch (id) {
      const session = sessions.get(id)
      if (session !== undefined) session.lastActivity = Date.now()
    },
    async subscribe (id, uri, max) {
      const { subscriptions } = mustGet(id)
      if (!subscriptions.has(uri) && subscriptions.size >= max) return false
      subscriptions.add(uri)
      return true
    },
    async unsubscribe (id, uri) { mustGet(id).subscriptions.delete(uri) },
    async audience (uri) {
      if (uri === undefined) return [...sessions.keys()]
      return [...sessions].filter(([, session]) => session.subscriptions.has(uri)).map(([id]) => id)
    },
    end: async (id, reason) => end(id, reason),
    count: async () => sessions.size,
    async countHeldBy (quotaKey) {
      let held = 0
      for (const session of sessions.values()) if (session.state.quotaKey === quotaKey) held++
      return held
    },
    async evictIdle (quotaKey, idleForMs) {
      const cutoff = Date.now() - idleForMs
      let oldest: [string, MemorySession] | undefined
      for (const entry of sessions) {
        const session = entry[1]
        if (session.state.quotaKey !== quotaKey || session.lastActivity > cutoff) continue
        if (session.running.size > 0 || session.standaloneHolder !== undefined) continue
        if (oldest === undefined || session.lastActivity < oldest[1].lastActivity) oldest = entry
      }
      if (oldest === undefined) return undefined
      end(oldest[0], 'evicted')
      return oldest[0]
    },
    onEnd (listener) { endListeners.push(listener) },

    async openStream (id, runner, requestId) {
      const session = mustGet(id)
      const streamId = String(++session.lastStream)
      session.running.set(streamId, { replica: runner, requestId })
      return streamId
    },
    append: async (id, streamId, data, final) => append(mustGet(id), streamId, data, final),
    async finishStream (id, streamId) {
      const session = mustGet(id)
      if (session.running.delete(streamId)) signal(session, { type: 'finished', streamId })
    },
    reserve: async (id) => mustGet(id).log.reserve(),
    async replay (id, streamId, afterSeq) {
      const session = mustGet(id)
      const events = session.log.after(streamId, afterSeq).map((event) => toSessionEvent(event, finals.has(event)))
      return { events, gap: (session.lastDropped.get(streamId) ?? 0) > afterSeq }
    },
    async status (id, streamId): Promise<StreamStatus> {
      const session = mustGet(id)
      const running = session.running.get(streamId)
      if (running !== undefined) return { state: 'running', ...running }
      if ((session.kept.get(streamId) ?? 0) > 0) return { state: 'finished' }
      return /^[1-9]\d*$/.test(streamId) && Number(streamId) <= session.lastStream ? { state: 'released' } : { state: 'unknown' }
    },
    async finishLost (id, streamId, data) {
      const session = mustGet(id)
      if (session.running.has(streamId)) append(session, streamId, data, true)
    },
    async tail (id, listener) {
      const session = mustGet(id)
      session.tails.add(listener)
      return () => { session.tails.delete(listener) }
    },
    async takeOver (id, streamId, holder) {
      const session = mustGet(id)
      if (streamId === '0') {
        session.standaloneHolder = holder
        session.standaloneConnected = true
      }
      signal(session, { type: 'takeover', streamId, holder })
    },
    async claimStandalone (id, holder) {
      const session = mustGet(id)
      if (session.standaloneHolder !== undefined) return { claimed: false, first: false }
      const first = !session.standaloneConnected
      session.standaloneHolder = holder
      session.standaloneConnected = true
      return { claimed: true, first }
    },
    async releaseStandalone (id, holder) {
      const session = sessions.get(id)
      if (session?.standaloneHolder === holder) session.standaloneHolder = undefined
    },
    async leave () {
      for (const id of [...sessions.keys()]) end(id, 'shutdown')
    },
    async close () {
      if (sweeper !== undefined) clearInterval(sweeper)
      sweeper = undefined
    }
  }
}
