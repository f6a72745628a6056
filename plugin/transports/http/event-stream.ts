import type { OutgoingHttpHeaders, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyReply } from 'fastify'

/** Headers of every event stream we open; `X-Accel-Buffering: no` stops nginx holding events back. */
export const EVENT_STREAM_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no'
} as const

/**
 * One server-sent event stream on a raw response. Writes are framed once and handed to the socket; when the
 * client stops reading and more than `maxBufferedBytes` would wait in memory, the response is destroyed
 * (`overflowed`) and its `close` event tells the owner.
 */
export class SseStream {
  private closed = false
  private keepAlive: NodeJS.Timeout | undefined
  overflowed = false

  constructor (private readonly res: ServerResponse, private readonly maxBufferedBytes: number, private readonly onOverflow?: () => void) {}

  get isOpen (): boolean {
    return !this.closed && !this.res.destroyed && !this.res.writableEnded
  }

  /** Writes `event`/`id`/`data` lines; data is already-serialized JSON or a URL (no newlines). */
  send (event: string, data: string, id?: string): boolean {
    if (!this.isOpen) return false
    const frame = id === undefined
      ? `event: ${event}\ndata: ${data}\n\n`
      : `event: ${event}\nid: ${id}\ndata: ${data}\n\n`
    return this.write(frame)
  }

  /** Writes frames already framed (a replay), under the same bound as single events. */
  sendFrames (frames: string): boolean {
    return frames === '' || (this.isOpen && this.write(frames))
  }

  comment (text: string): boolean {
    return this.isOpen && this.write(`: ${text}\n\n`)
  }

  /** Sends a `: keep-alive` comment every `intervalMs` until the stream ends. The timer never holds the process. */
  startKeepAlive (intervalMs: number): void {
    if (intervalMs <= 0) return
    this.keepAlive = setInterval(() => { this.comment('keep-alive') }, intervalMs)
    this.keepAlive.unref()
  }

  end (): void {
    if (this.closed) return
    this.closed = true
    if (this.keepAlive !== undefined) clearInterval(this.keepAlive)
    if (!this.res.writableEnded && !this.res.destroyed) this.res.end()
  }

  /**
   * Cuts the connection with a reset: what still waits for the client, in our buffers and in the kernel's socket
   * queues, is dropped at once instead of lingering until the client reads it.
   */
  reset (): void {
    this.dispose()
    const socket = this.res.socket
    if (socket !== null) resetSocket(socket)
    else this.res.destroy()
  }

  /** Stops the keep-alive timer once the client has gone (the socket is already closed). */
  dispose (): void {
    this.closed = true
    if (this.keepAlive !== undefined) clearInterval(this.keepAlive)
  }

  /**
   * A frame is refused, and the stream destroyed, only when bytes are already waiting for the client and this
   * frame would take them past the limit: a single large message still reaches a client that reads.
   */
  private write (frame: string): boolean {
    const waiting = this.res.writableLength
    if (waiting > 0 && waiting + Buffer.byteLength(frame) > this.maxBufferedBytes) {
      this.overflowed = true
      this.dispose()
      this.res.destroy()
      this.onOverflow?.()
      return false
    }
    this.res.write(frame)
    return true
  }
}

/**
 * Closes `socket` with a TCP reset, which drops what waits in its buffers, the kernel's included. A socket whose
 * client already closed its side is destroyed plainly: there a reset gains nothing, and in Node 20 it left the handle
 * spinning the event loop.
 */
export function resetSocket (socket: Socket): void {
  if (socket.destroyed) return
  if (socket.readableEnded || !socket.readable) socket.destroy()
  else socket.resetAndDestroy()
}

/**
 * Takes the response over from Fastify and starts an event stream on it. Headers set through `reply` (CORS,
 * for one) would be lost after hijack, so they are copied onto the raw response.
 */
export function openEventStream (reply: FastifyReply, maxBufferedBytes: number, onOverflow?: () => void): SseStream {
  reply.hijack()
  const headers: OutgoingHttpHeaders = { ...(reply.getHeaders() as OutgoingHttpHeaders), ...EVENT_STREAM_HEADERS }
  reply.raw.writeHead(200, headers)
  reply.raw.flushHeaders()
  return new SseStream(reply.raw, maxBufferedBytes, onOverflow)
}
