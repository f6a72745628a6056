import type { FastifyBaseLogger, FastifyReply } from 'fastify'
import type { JsonRpcId, JsonRpcNotification, JsonRpcRequest, JsonRpcResponse } from '../../protocol/jsonrpc.js'
import type { SessionStateStore } from '../../sessions/session-state.js'
import { sendUnlessGone } from './post-answer.js'
import { refusals } from '../http/refusals.js'
import type { LocalSession, LocalSessions } from './local-sessions.js'
import { SessionStreamConnection, type StreamSettings } from './session-stream-connection.js'

/** What a session answer needs from the transport, made once. */
export interface SessionAnswerContext {
  store: SessionStateStore
  sessions: LocalSessions
  /** Names this process as the one running the call, so a client resuming elsewhere knows whom to wait for. */
  replica: string
  settings: StreamSettings
  /** A new name for a connection, unique in the cluster. */
  newHolder: () => string
}

/**
 * The answer to one POST within a stateful session. A result that is ready at once goes back as JSON, as in
 * stateless mode; otherwise the answer becomes one of the session's streams: every message is numbered and kept in
 * the session's log before it reaches the client, so a client whose connection drops can resume it with
 * `Last-Event-ID`, on this process or another, and still get the progress, the requests to the client and the
 * result. The call keeps running either way.
 */
export class SessionAnswer {
  private streamId: Promise<string> | undefined
  private queue: Promise<unknown> = Promise.resolve()
  private answered = false
  readonly notify = (message: JsonRpcNotification | JsonRpcRequest): void => {
    // After a JSON answer there is no stream to put a late message on.
    if (this.streamId === undefined && this.answered) return
    this.append(JSON.stringify(message), false)
  }

  constructor (
    private readonly context: SessionAnswerContext,
    private readonly session: LocalSession,
    private readonly requestId: JsonRpcId,
    private readonly reply: FastifyReply,
    private readonly log: FastifyBaseLogger
  ) {}

  get streaming (): boolean {
    return this.streamId !== undefined
  }

  /** Turns the answer into a stream of the session, once. */
  open (): Promise<string> {
    this.streamId ??= this.openStream()
    return this.streamId
  }

  /** Sends the result (or ends the stream without one, when the call was cancelled); resolves once it is logged. */
  async finish (response: JsonRpcResponse | undefined): Promise<FastifyReply | undefined> {
    this.answered = true
    if (this.streamId === undefined) return sendUnlessGone(this.reply, response)
    const opened = await this.streamId.then(() => true, () => false)
    if (!opened) {
      // The stream could not be opened (the shared store is unreachable): the client is told, not left waiting.
      if (!this.reply.sent) throw refusals.clusterUnavailable(this.requestId)
      return undefined
    }
    if (response !== undefined) this.append(JSON.stringify(response), true)
    else this.queue = this.queue.then(async () => { await this.context.store.finishStream(this.session.id, await this.open()) })
    await this.queue.catch(() => {})
    return undefined
  }

  private async openStream (): Promise<string> {
    const { store, sessions, replica, settings, newHolder } = this.context
    const streamId = await store.openStream(this.session.id, replica, this.requestId)
    const connection = new SessionStreamConnection(store, this.session.id, streamId, newHolder(), settings)
    sessions.attach(this.session, connection)
    await connection.start(this.reply, undefined, this.log)
    return streamId
  }

  /** Messages are logged one after another, in the order the handler sent them. */
  private append (data: string, final: boolean): void {
    this.queue = this.queue.then(async () => {
      await this.context.store.append(this.session.id, await this.open(), data, final)
    }).catch((error: unknown) => {
      this.log.error({ err: error, sessionId: this.session.id }, 'A message of a session answer could not be logged: the client may miss it')
    })
  }
}
