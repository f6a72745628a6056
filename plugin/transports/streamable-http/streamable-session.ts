import type { AuthIdentity } from '../../protocol/identity.js'
import { createClientSession, type ClientSession } from '../../protocol/client-session.js'
import type { Dispatcher } from '../../dispatch/dispatcher.js'
import type { SessionCloseReason, StoredSession } from '../../sessions/session-store.js'
import { EventLog, type EventLogLimits } from '../../sessions/event-log.js'
import { ResumableStream, type StreamHooks, type StreamSettings } from './resumable-stream.js'

export interface SessionSettings extends StreamSettings {
  eventStore: EventLogLimits
}

/** The standalone GET stream's id; POST answers are numbered from 1. */
const STANDALONE_STREAM_ID = '0'

/**
 * One stateful Streamable HTTP session: its protocol state, the standalone stream that carries messages outside
 * any request (list changes, resource updates), the streams of POST answers still running or still resumable,
 * and the event log they share. Ends on DELETE, on the idle timeout, or at shutdown; its running handlers are
 * aborted then, never merely because a connection dropped.
 */
export class StreamableSession implements StoredSession {
  readonly client: ClientSession
  /** Carries messages outside any request: `GET /mcp`. */
  readonly standalone: ResumableStream
  private readonly answers = new Map<string, ResumableStream>()
  private readonly log: EventLog<ResumableStream>
  private readonly ended = new AbortController()
  private readonly hooks: StreamHooks
  private lastAnswerNumber = 0
  private detach: (() => void) | undefined

  constructor (
    readonly id: string,
    readonly owner: AuthIdentity | undefined,
    private readonly settings: SessionSettings
  ) {
    this.log = new EventLog(settings.eventStore, (event) => { event.stream.dropped(event.seq) })
    this.hooks = {
      delivered: () => { this.lastActivity = Date.now() },
      released: (stream) => { this.answers.delete(stream.id) }
    }
    this.standalone = new ResumableStream(STANDALONE_STREAM_ID, this.log, settings, this.hooks)
    this.client = createClientSession(id, owner, (message) => { this.standalone.send(message) })
  }

  /**
   * Milliseconds timestamp of the last message in or out. A call that runs silently for longer than the idle
   * timeout is aborted with its session: progress notifications keep both alive.
   */
  lastActivity = Date.now()

  /** Fires when the session ends: handlers still running for it stop. */
  get signal (): AbortSignal {
    return this.ended.signal
  }

  get closed (): boolean {
    return this.ended.signal.aborted
  }

  /** Events kept for resumption, for tests and monitoring. */
  get keptEvents (): { events: number, bytes: number } {
    return { events: this.log.size, bytes: this.log.bytes }
  }

  /** From now on list changes and updates of subscribed resources reach this session's standalone stream. */
  listen (dispatcher: Dispatcher): void {
    this.detach ??= dispatcher.attachSession(this.client)
  }

  /** A new stream for the answer to one request; the caller finishes it after the response. */
  openAnswerStream (): ResumableStream {
    const stream = new ResumableStream(String(++this.lastAnswerNumber), this.log, this.settings, this.hooks)
    if (!this.closed) this.answers.set(stream.id, stream)
    else stream.close()
    return stream
  }

  /** The stream an event id names: the standalone stream, or an answer still running or with events kept. */
  findStream (streamId: string): ResumableStream | undefined {
    return streamId === STANDALONE_STREAM_ID ? this.standalone : this.answers.get(streamId)
  }

  /** True when `streamId` was handed out by this session (its stream may be gone since). */
  issued (streamId: string): boolean {
    return Number(streamId) <= this.lastAnswerNumber
  }

  close (reason: SessionCloseReason): void {
    if (this.closed) return
    this.detach?.()
    this.standalone.close()
    for (const stream of this.answers.values()) stream.close()
    this.answers.clear()
    this.log.clear()
    this.ended.abort(new Error(`Streamable HTTP session ended (${reason})`))
  }
}
