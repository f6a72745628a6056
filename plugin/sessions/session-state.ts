import type { JsonRpcId } from '../protocol/jsonrpc.js'
import type { ClientCapabilities, Implementation, LoggingLevel } from '../protocol/spec.js'

/**
 * What a stateful Streamable HTTP session is, apart from any connection: who owns it and what the client said.
 * In cluster mode every replica reads and writes the same record, so any replica can serve any request of it.
 */
export interface SessionState {
  readonly id: string
  /** The identity that started the session (its id, never a token); null when auth is off. */
  readonly ownerId: string | null
  /** Whom the session counts against for `maxSessionsPerIdentity`: the owner, or the client address without auth. */
  readonly quotaKey: string
  protocolVersion?: string
  clientInfo?: Implementation
  clientCapabilities?: ClientCapabilities
  logLevel?: LoggingLevel
}

export type SessionStatePatch = Partial<Omit<SessionState, 'id' | 'ownerId' | 'quotaKey'>>

/** Why a session ended: its idle timeout, DELETE, the process stopping, or a newer session of a capped caller. */
export type SessionEndReason = 'idle' | 'deleted' | 'shutdown' | 'evicted'

/** The session ended between loading and this step (DELETE or idle timeout elsewhere): a 404 for its client. */
export class SessionGoneError extends Error {
  constructor (id: string) {
    super(`Session ${id} has ended`)
    this.name = 'SessionGoneError'
  }
}

/** The standalone GET stream's id; the answers to POSTs are numbered from 1. */
export const STANDALONE_STREAM = '0'

/** One message kept for clients that reconnect with `Last-Event-ID`. */
export interface SessionEvent {
  readonly streamId: string
  /** Its number in the session's one sequence, shared by all its streams. */
  readonly seq: number
  /** The message, serialized. */
  readonly data: string
  /** The last message of its stream (the response that ends a POST answer). */
  readonly final: boolean
}

/** Where one stream of a session stands, as a client that wants to resume it needs to know. */
export type StreamStatus =
  /** Still carrying a call's messages; `replica` runs the call. */
  | { state: 'running', replica: string, requestId: JsonRpcId }
  /** Complete, with events still kept. */
  | { state: 'finished' }
  /** Complete, and nothing of it kept: a client should stop (204). */
  | { state: 'released' }
  /** Never issued by this session. */
  | { state: 'unknown' }

/** What a tail of a session hears: every event appended, and when a connection elsewhere takes a stream over. */
export type SessionSignal =
  | { type: 'event', event: SessionEvent }
  /** A stream ended without a final event (its call was cancelled): its connections end. */
  | { type: 'finished', streamId: string }
  | { type: 'takeover', streamId: string, holder: string }

/**
 * The state of stateful sessions and their replay log, as every process serving them sees it: in memory for one
 * process, in Redis for a cluster. The sockets stay in the process that holds them; this is what they share.
 */
export interface SessionStateStore {
  /** Sessions open, as last counted: exact for one process, refreshed with the heartbeat in a cluster. */
  readonly size: number
  readonly maxSessions: number
  readonly idleTimeoutMs: number
  /** Starts a session; false (nothing stored) when `maxSessions` sessions are open. */
  create: (state: SessionState) => Promise<boolean>
  /** The session if it exists and `ownerId` owns it (another caller's is as good as unknown); counts as activity. */
  load: (id: string, ownerId: string | null) => Promise<SessionState | undefined>
  update: (id: string, patch: SessionStatePatch) => Promise<void>
  /** Records activity (a message in or out) so the idle timeout starts again. */
  touch: (id: string) => Promise<void>
  /** Subscribes the session to `uri`, unless it already holds `max` other subscriptions: then false. */
  subscribe: (id: string, uri: string, max: number) => Promise<boolean>
  unsubscribe: (id: string, uri: string) => Promise<void>
  /** The sessions subscribed to `uri`; with no uri, every session (list changes reach all). */
  audience: (uri?: string) => Promise<string[]>
  /** Ends the session for every process; false when there was none. Listeners of `onEnd` hear it. */
  end: (id: string, reason: SessionEndReason) => Promise<boolean>
  /** Sessions open now (across the cluster). */
  count: () => Promise<number>
  /** Sessions counted against `quotaKey` now (across the cluster). */
  countHeldBy: (quotaKey: string) => Promise<number>
  /**
   * Ends the least recently used session of `quotaKey` that has been idle for `idleForMs` with no call running and
   * no GET stream open (its client evidently lost track of it); resolves with its id, or undefined when none is.
   */
  evictIdle: (quotaKey: string, idleForMs: number) => Promise<string | undefined>
  /** Hears every session end, wherever it was ended (DELETE elsewhere, idle expiry). */
  onEnd: (listener: (id: string, reason: SessionEndReason) => void) => void

  /** Opens the stream that carries the answer to one POST; ids are handed out atomically, from 1. */
  openStream: (id: string, replica: string, requestId: JsonRpcId) => Promise<string>
  /**
   * Numbers `data` in the session's sequence, keeps it within the log's limits, and hands it to every tail of the
   * session. A final event finishes its stream.
   */
  append: (id: string, streamId: string, data: string, final: boolean) => Promise<SessionEvent>
  /** Ends a stream that has no final message to send (the client cancelled its call). */
  finishStream: (id: string, streamId: string) => Promise<void>
  /** Takes a number for an event that carries no message (the priming event of a connection). */
  reserve: (id: string) => Promise<number>
  /** The kept events of a stream after `afterSeq`, and whether some of those were dropped before anyone got them. */
  replay: (id: string, streamId: string, afterSeq: number) => Promise<{ events: SessionEvent[], gap: boolean }>
  status: (id: string, streamId: string) => Promise<StreamStatus>
  /** Ends a stream whose call was lost with its replica by appending `data` as its final event, unless it finished. */
  finishLost: (id: string, streamId: string, data: string) => Promise<void>
  /** Hears a session's signals from every process, from the moment the returned promise resolves. */
  tail: (id: string, listener: (signal: SessionSignal) => void) => Promise<() => void>
  /**
   * Tells every tail of the session that `holder` now carries `streamId` (a client resumed it); for the standalone
   * stream, `holder` also becomes its holder.
   */
  takeOver: (id: string, streamId: string, holder: string) => Promise<void>
  /**
   * Claims the standalone GET stream for a new connection: refused while another live connection holds it (one per
   * session). `first` is true for the first connection ever, which also gets what was sent before it.
   */
  claimStandalone: (id: string, holder: string) => Promise<{ claimed: boolean, first: boolean }>
  /** Lets the standalone stream go, if `holder` still holds it. */
  releaseStandalone: (id: string, holder: string) => Promise<void>
  /**
   * This process stops serving: a store that lives in the process ends its sessions (they die with it); a shared
   * one keeps them for the other replicas.
   */
  leave: () => Promise<void>
  /** Stops timers and listeners (the host is closing). */
  close: () => Promise<void>
}
