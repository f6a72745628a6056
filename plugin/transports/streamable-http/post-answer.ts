import type { FastifyReply } from 'fastify'
import type { JsonRpcNotification, JsonRpcRequest, JsonRpcResponse } from '../../protocol/jsonrpc.js'
import { openEventStream, type SseStream } from '../http/event-stream.js'
import type { ResumableStream } from './resumable-stream.js'
import type { StreamableSession } from './streamable-session.js'

/** A JSON answer (204 for none), unless the client has gone: nothing is written to a closed connection. */
function sendUnlessGone (reply: FastifyReply, response: JsonRpcResponse | undefined): FastifyReply | undefined {
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
      this.stream = openEventStream(this.reply, this.maxBufferedBytes)
      this.stream.startKeepAlive(this.keepAliveMs)
    }
    this.stream.send('message', JSON.stringify(notification))
  }

  constructor (private readonly reply: FastifyReply, private readonly maxBufferedBytes: number, private readonly keepAliveMs: number) {}

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

/**
 * The answer to one POST within a stateful session. A result that is ready at once goes back as JSON, as in
 * stateless mode; otherwise the answer becomes one of the session's resumable streams (see `ResumableStream`),
 * opened with a priming event, so a client whose connection drops can reconnect with `Last-Event-ID` and still
 * get the progress, the requests to the client and the result. The request keeps running either way.
 */
export class SessionPostAnswer {
  private stream: ResumableStream | undefined
  private answered = false
  readonly notify = (message: JsonRpcNotification | JsonRpcRequest): void => {
    // After a JSON answer there is no stream to put a late message on.
    if (this.stream === undefined && this.answered) return
    this.open().send(message)
  }

  constructor (private readonly session: StreamableSession, private readonly reply: FastifyReply) {}

  get streaming (): boolean {
    return this.stream !== undefined
  }

  /** Turns the answer into an event stream of the session, once; later calls return the same stream. */
  open (): ResumableStream {
    if (this.stream !== undefined) return this.stream
    const stream = this.session.openAnswerStream()
    this.stream = stream
    // A client that left already can still resume from the log, had it seen an id; the reply is ours to drop.
    if (this.reply.raw.destroyed) this.reply.hijack()
    else stream.connect(this.reply, undefined)
    return stream
  }

  /** Sends the result (or nothing, when the request was cancelled) and ends the answer. */
  finish (response: JsonRpcResponse | undefined): FastifyReply | undefined {
    this.answered = true
    const stream = this.stream
    if (stream !== undefined) {
      if (response !== undefined) stream.send(response)
      stream.finish()
      return undefined
    }
    return sendUnlessGone(this.reply, response)
  }
}
