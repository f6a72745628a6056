import type { FastifyReply } from 'fastify'
import type { JsonRpcNotification, JsonRpcRequest, JsonRpcResponse } from '../protocol/jsonrpc.js'
import { openEventStream, type SseStream } from './sse-stream.js'

/**
 * The answer to one Streamable HTTP POST: a plain JSON response, unless the handler sends something (progress,
 * log messages) before its result; then the answer becomes an event stream that carries those and ends with
 * the result. Either is what the spec allows; JSON is the cheap common case.
 */
export class PostAnswer {
  private stream: SseStream | undefined
  readonly notify = (notification: JsonRpcNotification | JsonRpcRequest): void => {
    if (this.reply.raw.destroyed) return
    this.stream ??= openEventStream(this.reply, this.maxBufferedBytes)
    this.stream.send('message', JSON.stringify(notification))
  }

  constructor (private readonly reply: FastifyReply, private readonly maxBufferedBytes: number) {}

  /** Sends the result (or nothing, when the request was cancelled) and ends the answer. */
  finish (response: JsonRpcResponse | undefined): FastifyReply | undefined {
    const stream = this.stream
    if (stream !== undefined) {
      if (response !== undefined) stream.send('message', JSON.stringify(response))
      stream.end()
      return undefined
    }
    if (response === undefined) return this.reply.code(204).send()
    return this.reply.send(response)
  }
}
