import type { FastifyReply } from 'fastify'
import type { JsonRpcMessage } from '../../protocol/jsonrpc.js'
import type { EventLog } from '../../sessions/event-log.js'
import { openEventStream, type SseStream } from '../http/event-stream.js'

/** How a session's event streams behave on the wire. */
export interface StreamSettings {
  /** Interval of `: keep-alive` comments; 0 for none. */
  keepAliveMs: number
  /** The `retry:` hint of the priming event. */
  retryMs: number
  maxBufferedBytes: number
}

export interface StreamHooks {
  /** A message reached a client: the session is active. */
  delivered: () => void
  /** A finished stream has nothing left to replay: it can be forgotten. */
  released: (stream: ResumableStream) => void
}

/** Every event on a session stream is named `<streamId>:<seq>`, so `Last-Event-ID` says which stream to resume. */
export function eventId (streamId: string, seq: number): string {
  return `${streamId}:${seq}`
}

export function parseEventId (id: string): { streamId: string, seq: number } | undefined {
  const match = /^(\d{1,15}):(\d{1,15})$/.exec(id)
  return match === null ? undefined : { streamId: match[1], seq: Number(match[2]) }
}

/**
 * One logical event stream of a stateful session: the standalone GET stream, or the answer to one POST. Every
 * message is numbered and kept in the session's event log before it is written, so a client that lost the
 * connection can come back with `Last-Event-ID` and get what it missed. The connection carrying the stream may
 * change; the stream does not. A client that disconnects stops nothing: messages go to the log until it returns.
 */
export class ResumableStream {
  private connection: SseStream | undefined
  private kept = 0
  private lastDropped = 0
  private done = false
  /** True once some connection has carried this stream. */
  connectedBefore = false

  constructor (
    readonly id: string,
    private readonly log: EventLog<ResumableStream>,
    private readonly settings: StreamSettings,
    private readonly hooks: StreamHooks
  ) {}

  /** A live connection carries the stream now. */
  get connected (): boolean {
    return this.connection?.isOpen ?? false
  }

  get finished (): boolean {
    return this.done
  }

  send (message: JsonRpcMessage): void {
    if (this.done) return
    this.kept++
    const event = this.log.append(this, JSON.stringify(message))
    if (this.connection?.send('message', event.data, eventId(this.id, event.seq)) === true) this.hooks.delivered()
  }

  /**
   * Carries the stream on `reply` from now on: a priming event (an id, the retry hint, empty data; SEP-1699),
   * then the kept events numbered after `afterSeq` (none when it is undefined), then whatever comes next. A
   * connection that carried the stream until now is ended: the client has moved. A finished stream ends once
   * replayed. Returns true when events after `afterSeq` were dropped from the log before the client got them.
   */
  connect (reply: FastifyReply, afterSeq: number | undefined): boolean {
    const previous = this.connection
    this.connection = undefined
    previous?.end()
    this.connectedBefore = true
    const stream = openEventStream(reply, this.settings.maxBufferedBytes)
    // The priming event and the replay go out in one write, past the overflow check: the event store's limits
    // bound them, and they may well exceed what a client can read in one go.
    let frames = `id: ${eventId(this.id, this.log.reserve())}\nretry: ${this.settings.retryMs}\ndata: \n\n`
    if (afterSeq !== undefined) {
      for (const event of this.log.after(this, afterSeq)) frames += `event: message\nid: ${eventId(this.id, event.seq)}\ndata: ${event.data}\n\n`
    }
    if (stream.isOpen) reply.raw.write(frames)
    const lost = afterSeq !== undefined && this.lastDropped > afterSeq
    if (this.done) {
      stream.end()
      return lost
    }
    this.connection = stream
    stream.startKeepAlive(this.settings.keepAliveMs)
    reply.raw.once('close', () => {
      stream.dispose()
      if (this.connection === stream) this.connection = undefined
      if (stream.overflowed) {
        reply.log.warn({ streamId: this.id, limitBytes: this.settings.maxBufferedBytes }, 'A client stopped reading its session stream; the connection was cut (it may resume)')
      }
    })
    return lost
  }

  /** The stream carried its last message: the connection ends; kept events stay for a client that reconnects. */
  finish (): void {
    if (this.done) return
    this.done = true
    this.connection?.end()
    this.connection = undefined
    if (this.kept === 0) this.hooks.released(this)
  }

  /** The log let one of this stream's events go (or could not keep it). */
  dropped (seq: number): void {
    this.kept--
    if (seq > this.lastDropped) this.lastDropped = seq
    if (this.done && this.kept === 0) this.hooks.released(this)
  }

  /** The session ended: the connection ends and nothing more is sent. */
  close (): void {
    this.done = true
    this.connection?.end()
    this.connection = undefined
  }
}
