import type { AuthIdentity } from '../protocol/identity.js'
import type { SessionCloseReason, SessionStore, StoredSession } from './session-store.js'

export interface MemorySessionStoreOptions {
  maxSessions: number
  idleTimeoutMs: number
  /** Called after a session was pruned for idleness. */
  onPrune?: (session: StoredSession) => void
}

function sameOwner (a: AuthIdentity | undefined, b: AuthIdentity | null | undefined): boolean {
  return (a?.id ?? null) === (b?.id ?? null)
}

/** Sessions in a Map, with a cap and an idle sweeper whose timer never keeps the process alive. */
export function createMemorySessionStore<S extends StoredSession> (options: MemorySessionStoreOptions): SessionStore<S> {
  const { maxSessions, idleTimeoutMs, onPrune } = options
  const sessions = new Map<string, S>()
  /** Open sessions per owner id; owners without an id (auth off) are not counted. */
  const owned = new Map<string, number>()
  let sweeper: NodeJS.Timeout | undefined

  function count (session: S, delta: 1 | -1): void {
    const ownerId = session.quotaKey
    const next = (owned.get(ownerId) ?? 0) + delta
    if (next > 0) owned.set(ownerId, next)
    else owned.delete(ownerId)
  }

  /** Forgets a session the store holds; false when it held none by that id. */
  function forget (id: string): boolean {
    const session = sessions.get(id)
    if (session === undefined) return false
    sessions.delete(id)
    count(session, -1)
    return true
  }

  function sweep (): void {
    const cutoff = Date.now() - idleTimeoutMs
    for (const session of sessions.values()) {
      if (session.lastActivity > cutoff) continue
      forget(session.id)
      session.close('idle')
      onPrune?.(session)
    }
    if (sessions.size === 0) stopSweeper()
  }

  function startSweeper (): void {
    if (sweeper !== undefined) return
    sweeper = setInterval(sweep, Math.min(Math.max(Math.floor(idleTimeoutMs / 4), 10), 60_000))
    sweeper.unref()
  }

  function stopSweeper (): void {
    if (sweeper === undefined) return
    clearInterval(sweeper)
    sweeper = undefined
  }

  return {
    get size () { return sessions.size },
    maxSessions,
    idleTimeoutMs,
    add (session) {
      if (sessions.size >= maxSessions) return false
      sessions.set(session.id, session)
      count(session, 1)
      startSweeper()
      return true
    },
    countHeldBy: (quotaKey) => owned.get(quotaKey) ?? 0,
    get (id, owner) {
      const session = sessions.get(id)
      return session !== undefined && sameOwner(session.owner, owner) ? session : undefined
    },
    touch (session) { session.lastActivity = Date.now() },
    delete (id) {
      const deleted = forget(id)
      if (sessions.size === 0) stopSweeper()
      return deleted
    },
    closeAll (reason: SessionCloseReason) {
      const all = [...sessions.values()]
      sessions.clear()
      owned.clear()
      stopSweeper()
      for (const session of all) session.close(reason)
    },
    stop: stopSweeper
  }
}
