/** One message kept for replay: the stream it went out on, its number in the session's sequence, its JSON. */
export interface LoggedEvent<S> {
  readonly stream: S
  readonly seq: number
  readonly data: string
  readonly bytes: number
}

export interface EventLogLimits {
  /** Events kept at most; 0 keeps none. */
  maxEvents: number
  /** Bytes of event data kept at most; an event larger than this is never kept. */
  maxBytes: number
}

/** Compact the backing array once this many dropped slots sit at its front. */
const COMPACT_AFTER = 64

/**
 * The recent messages of one session, for clients that reconnect with `Last-Event-ID`. Every event takes the
 * next number of one sequence shared by the session's streams; the log keeps the newest events within both
 * limits and reports each event it lets go (or could not keep) to `onDrop`, so a stream can tell when its
 * history has a gap. Memory is bounded by the limits whatever the clients do.
 */
export class EventLog<S> {
  /** Dropped events leave an empty slot at the front until the array is compacted. */
  private events: Array<LoggedEvent<S> | undefined> = []
  private first = 0
  private keptBytes = 0
  private lastSeq = 0

  constructor (private readonly limits: EventLogLimits, private readonly onDrop: (event: LoggedEvent<S>) => void) {}

  /** Events kept now. */
  get size (): number {
    return this.events.length - this.first
  }

  /** Bytes of event data kept now. */
  get bytes (): number {
    return this.keptBytes
  }

  /** The highest number handed out so far. */
  get last (): number {
    return this.lastSeq
  }

  /** Takes a number without keeping an event: for priming events, which carry an id and no data. */
  reserve (): number {
    return ++this.lastSeq
  }

  /** Numbers `data` and keeps it if it fits; older events are dropped to make room. */
  append (stream: S, data: string): LoggedEvent<S> {
    const event: LoggedEvent<S> = { stream, seq: ++this.lastSeq, data, bytes: Buffer.byteLength(data) }
    if (this.limits.maxEvents === 0 || event.bytes > this.limits.maxBytes) {
      this.onDrop(event)
      return event
    }
    this.events.push(event)
    this.keptBytes += event.bytes
    while (this.size > this.limits.maxEvents || this.keptBytes > this.limits.maxBytes) this.dropOldest()
    return event
  }

  /** The kept events of `stream` numbered after `seq`, oldest first. */
  after (stream: S, seq: number): Array<LoggedEvent<S>> {
    const found: Array<LoggedEvent<S>> = []
    for (let i = this.first; i < this.events.length; i++) {
      const event = this.events[i]
      if (event !== undefined && event.stream === stream && event.seq > seq) found.push(event)
    }
    return found
  }

  /** Forgets everything (the session ended); nothing is reported to `onDrop`. */
  clear (): void {
    this.events = []
    this.first = 0
    this.keptBytes = 0
  }

  private dropOldest (): void {
    const event = this.events[this.first] as LoggedEvent<S>
    this.events[this.first] = undefined
    this.first++
    this.keptBytes -= event.bytes
    if (this.first >= COMPACT_AFTER && this.first * 2 >= this.events.length) {
      this.events = this.events.slice(this.first)
      this.first = 0
    }
    this.onDrop(event)
  }
}
