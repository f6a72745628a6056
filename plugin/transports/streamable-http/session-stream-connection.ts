import type { Socket } from 'node:net'
import type { FastifyBaseLogger, FastifyReply } from 'fastify'
import type { SessionEvent, SessionSignal, SessionStateStore } from '../../sessions/session-state.js'
import { openEventStream, resetSocket, type SseStream } from '../http/event-stream.js'

/** How a session's event streams behave on the wire. */
export interface StreamSettings {
  /** Interval of `: keep-alive` comments; 0 for none. */
  keepAliveMs: number
  /** The `retry:` hint of the priming event. */
  retryMs: number
  maxBufferedBytes: number
}

/** Every event on a session stream is named `<streamId>:<seq>`, so `Last-Event-ID` says which stream to resume. */
export function eventId (streamId: string, seq: number): string {
  return `${streamId}:${seq}`
}

export function parseEventId (id: string): { streamId: string, seq: number } | undefined {
  const match = /^(\d{1,15}):(\d{1,15})$/.exec(id)
  return match === null ? undefined : { streamId: match[1], seq: Number(match[2]) }
}

function frame (event: SessionEvent): string {
  return `event: message\nid: ${eventId(event.streamId, event.seq)}\ndata: ${event.data}\n\n`
}

/** Why a connection ended, for the log and for whoever holds it. */
export type ConnectionEnd = 'finished' | 'closed' | 'taken-over' | 'session-ended' | 'shutdown'

/** The resumed stream a socket holds after its answer ended (see `hold`): one per socket, the newest. */
const holds = new WeakMap<Socket, (reset: boolean) => void>()

/**
 * Carries one logical stream of a session (the standalone GET stream, or the answer to one POST) on one HTTP
 * response. It hears the session's events from whichever process appends them, so a client can take a stream
 * over on any replica: a priming event first (an id and the retry hint, SEP-1699), then the kept events after the
 * client's `Last-Event-ID`, then everything live, each event once, in order. A final event ends the connection;
 * so does a connection elsewhere taking the stream over, which resets this one's socket: its client went elsewhere,
 * and whatever still waits for it (in our buffers or the kernel's) is dropped rather than held.
 */
export class SessionStreamConnection {
  private stream: SseStream | undefined
  private stopTail: (() => void) | undefined
  private lastSeq = 0
  /** What the tail heard while the replay was read: handled after it, in order. */
  private buffered: SessionSignal[] | undefined = []
  private ended = false
  private readonly onEnd = new Set<(why: ConnectionEnd) => void>()
  private socket: Socket | undefined
  /** This connection resumed the stream (a GET with `Last-Event-ID`) and took it over from any other. */
  private resumed = false
  /** False from a takeover until this connection hears its own: a takeover heard before that is older, and loses. */
  private claimed = true
  /** Lets go of the socket a finished resumed stream still holds (see `hold`). */
  private releaseHold: ((reset: boolean) => void) | undefined

  constructor (
    private readonly store: SessionStateStore,
    readonly sessionId: string,
    readonly streamId: string,
    /** Names this connection among all the session's connections in the cluster. */
    readonly holder: string,
    private readonly settings: StreamSettings
  ) {}

  get open (): boolean {
    return !this.ended
  }

  /** Called once when the connection ends, whatever ended it. */
  whenEnded (listener: (why: ConnectionEnd) => void): void {
    if (this.ended) listener('closed')
    else this.onEnd.add(listener)
  }

  /**
   * Starts the stream on `reply`. With `afterSeq`, the kept events of this stream numbered after it are sent first
   * (0: everything kept); without it, only what comes from now on. With `takeOver`, every other connection of the
   * stream, on any replica, ends (a client that resumes has left them). Returns true when events the client wanted
   * were dropped from the log before it got them.
   */
  async start (reply: FastifyReply, afterSeq: number | undefined, log: FastifyBaseLogger, onOverflow?: () => void, takeOver = false): Promise<boolean> {
    this.socket = reply.raw.socket ?? undefined
    this.stopTail = await this.store.tail(this.sessionId, (signal) => { this.hear(signal) })
    // Listening first, then taking over: of two connections racing for the stream, the later takeover wins.
    if (takeOver) await this.takeOver()
    if (reply.raw.destroyed || this.ended) {
      reply.hijack()
      this.end('closed')
      return false
    }
    const stream = this.stream = openEventStream(reply, this.settings.maxBufferedBytes, onOverflow)
    reply.raw.once('close', () => {
      if (stream.overflowed) {
        log.warn({ streamId: this.streamId, limitBytes: this.settings.maxBufferedBytes }, 'A client stopped reading its session stream; the connection was cut (it may resume)')
      }
      this.end('closed')
    })
    const primingSeq = afterSeq ?? await this.store.reserve(this.sessionId)
    let frames = `id: ${eventId(this.streamId, primingSeq)}\nretry: ${this.settings.retryMs}\ndata: \n\n`
    let gap = false
    let finished = false
    if (afterSeq !== undefined) {
      const replay = await this.store.replay(this.sessionId, this.streamId, afterSeq)
      gap = replay.gap
      for (const event of replay.events) {
        frames += this.take(event)
        finished ||= event.final
      }
    }
    // The replay goes out in one write, under the slow-reader bound like any other (nothing waits yet).
    stream.sendFrames(frames)
    if (finished) {
      this.end('finished')
      return gap
    }
    const heard = this.buffered ?? []
    this.buffered = undefined
    for (const signal of heard) this.hear(signal)
    if (!this.ended) stream.startKeepAlive(this.settings.keepAliveMs)
    return gap
  }

  /** Ends the connection (the stream goes on in the log for a client that comes back). */
  end (why: ConnectionEnd): void {
    if (this.ended) return
    this.ended = true
    this.stream?.end()
    if (why === 'finished' && this.resumed) this.hold()
    else this.stopListening()
    for (const listener of this.onEnd) listener(why)
    this.onEnd.clear()
  }

  private stopListening (): void {
    this.stopTail?.()
    this.stopTail = undefined
  }

  private async takeOver (): Promise<void> {
    this.resumed = true
    this.claimed = false
    try {
      await this.store.takeOver(this.sessionId, this.streamId, this.holder)
    } catch (error) {
      this.end('closed')
      throw error
    }
  }

  /**
   * A resumed stream that is complete stays this connection's while its socket stays open and serves nothing else.
   * Its answer has ended, but a client that never reads keeps the replay in socket buffers, and without this every
   * GET with an old `Last-Event-ID` would add one (finding 8 of issue 17): when the stream is taken over again, this
   * socket is reset, which drops whatever still waits in it. A socket that carried another request since, or closed,
   * holds nothing of the stream.
   */
  private hold (): void {
    const socket = this.socket
    if (socket === undefined || socket.destroyed) {
      this.stopListening()
      return
    }
    holds.get(socket)?.(false)
    const readBefore = socket.bytesRead
    const onClose = (): void => { release(false) }
    const release = (reset: boolean): void => {
      if (holds.get(socket) === release) holds.delete(socket)
      socket.off('close', onClose)
      this.releaseHold = undefined
      this.stopListening()
      if (reset && socket.bytesRead === readBefore) resetSocket(socket)
    }
    socket.once('close', onClose)
    holds.set(socket, release)
    this.releaseHold = release
  }

  private hear (signal: SessionSignal): void {
    if (signal.type === 'takeover') {
      this.heardTakeover(signal.streamId, signal.holder)
      return
    }
    if (this.ended) return
    if (this.buffered !== undefined) {
      this.buffered.push(signal)
      return
    }
    if (signal.type === 'finished') {
      if (signal.streamId === this.streamId) this.end('finished')
      return
    }
    if (signal.event.streamId === this.streamId) this.deliver(signal.event)
  }

  private heardTakeover (streamId: string, holder: string): void {
    if (streamId !== this.streamId) return
    if (holder === this.holder) {
      this.claimed = true
      return
    }
    if (!this.claimed) return
    if (this.releaseHold !== undefined) {
      this.releaseHold(true)
    } else if (!this.ended) {
      this.stream?.reset()
      if (this.stream === undefined && this.socket !== undefined) resetSocket(this.socket)
      this.end('taken-over')
    }
  }

  /** The frame of an event not sent yet, or '' for one already sent (it was both replayed and heard live). */
  private take (event: SessionEvent): string {
    if (event.seq <= this.lastSeq) return ''
    this.lastSeq = event.seq
    return frame(event)
  }

  private deliver (event: SessionEvent): void {
    const framed = this.take(event)
    if (framed !== '') this.stream?.sendFrames(framed)
    if (event.final) this.end('finished')
  }
}
