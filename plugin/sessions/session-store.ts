import type { AuthIdentity } from '../protocol/identity.js'

/** What a session store needs from a session: who owns it, when it was last used, and how to end it. */
export interface StoredSession {
  readonly id: string
  readonly owner: AuthIdentity | undefined
  /** Whom the session counts against for `maxSessionsPerIdentity`: the owner, or the client address without auth. */
  readonly quotaKey: string
  /** Milliseconds timestamp of the last message in or out (keep-alive comments do not count). */
  lastActivity: number
  /** Ends the session's stream; the store has already forgotten it. */
  close: (reason: SessionCloseReason) => void
}

export type SessionCloseReason = 'idle' | 'shutdown' | 'deleted' | 'overflow' | 'disconnected'

/**
 * The contract the transports rely on. Sessions hold live streams, so a store lives in the process that holds
 * the sockets; another implementation may change the bookkeeping (limits, per-identity caps, metrics).
 */
export interface SessionStore<S extends StoredSession = StoredSession> {
  readonly size: number
  readonly maxSessions: number
  readonly idleTimeoutMs: number
  /** Adds a session; false (and nothing added) when the store is full. */
  add: (session: S) => boolean
  /** How many sessions here count against `quotaKey`, for per-identity caps. */
  countHeldBy: (quotaKey: string) => number
  /** The session, only if `owner` opened it: another identity's session is as good as unknown. */
  get: (id: string, owner: AuthIdentity | null | undefined) => S | undefined
  /** Records activity so the idle sweeper leaves the session alone. */
  touch: (session: S) => void
  /** Forgets a session without closing it (its stream already ended). */
  delete: (id: string) => boolean
  /** Closes and forgets every session, e.g. on shutdown. */
  closeAll: (reason: SessionCloseReason) => void
  /** Stops the idle sweeper's timer. */
  stop: () => void
}
