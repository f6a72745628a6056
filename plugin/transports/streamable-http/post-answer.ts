import type { FastifyReply } from 'fastify'
import type { JsonRpcNotification, JsonRpcRequest, JsonRpcResponse } from '../../protocol/jsonrpc.js'
import { openEventStream, type SseStream } from '../http/event-stream.js'

/** A JSON answer (204 for none), unless the client has gone: nothing is written to a closed connection. */
export function sendUnlessGone (reply: FastifyReply, response: JsonRpcResponse | undefined): FastifyReply | undefined {
  if (reply.raw.destroyed) {
    reply.hijack()
    return undefined
  }
  if (response === undefined) return reply.code(204).send()
  return reply.send(response)
}

/**
 * The answer to one stateless Streamable HTTP POST: a plain JSON response, unless the handler sends something
 * (progress, log messages) before its result; then the answer becomes an event stream that carries those and
 * ends with the result. Either is what the spec allows; JSON is the cheap common case.
 */
export class PostAnswer {
  private stream: SseStream | undefined
  private answered = false
  readonly notify = (notification: JsonRpcNotification | JsonRpcRequest): void => {
    if (this.reply.raw.destroyed) return
    if (this.stream === undefined) {
      // A handler that reports after its result went out as JSON has no answer left to report on.
      if (this.answered) return
      this.stream = openEventStream(this.reply, this.maxBufferedBytes, this.onOverflow)
      this.stream.startKeepAlive(this.keepAliveMs)
    }
    this.stream.send('message', JSON.stringify(notification))
  }

  constructor (
    private readonly reply: FastifyReply,
    private readonly maxBufferedBytes: number,
    private readonly keepAliveMs: number,
    /** Told when the client stopped reading and the stream was cut (telemetry); made once per leg, not per request. */
    private readonly onOverflow?: () => void
  ) {}

  /** Sends the result (or nothing, when the request was cancelled) and ends the answer. */
  finish (response: JsonRpcResponse | undefined): FastifyReply | undefined {
    this.answered = true
    const stream = this.stream
    if (stream !== undefined) {
      if (response !== undefined) stream.send('message', JSON.stringify(response))
      stream.end()
      return undefined
    }
    return sendUnlessGone(this.reply, response)
  }
}
