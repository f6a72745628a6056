import type { JsonRpcMessage } from '../../protocol/jsonrpc.js'
import type { AuthIdentity } from '../../protocol/identity.js'
import { LocalClientSession } from '../../protocol/client-session.js'
import { SSE_PROTOCOL_VERSION } from '../../protocol/versions.js'
import type { SessionCloseReason, StoredSession } from '../../sessions/session-store.js'
import type { SseStream } from '../http/event-stream.js'

/** One legacy HTTP+SSE session: its event stream, its protocol state, and a signal that fires when it ends. */
export class SseSession implements StoredSession {
  lastActivity = Date.now()
  /** Requests of this session still running; `sse.maxInFlight` caps it. */
  pendingRequests = 0
  readonly client: LocalClientSession
  private readonly ended = new AbortController()
  /** Stops change notifications reaching this session. */
  detach: (() => void) | undefined
  /** Why the server ended the session (idle, shutdown), once it did. */
  closedFor: SessionCloseReason | undefined

  constructor (
    readonly id: string,
    readonly owner: AuthIdentity | undefined,
    readonly quotaKey: string,
    private readonly stream: SseStream,
    maxSubscriptions: number
  ) {
    this.client = new LocalClientSession(id, owner, (message) => { this.send(message) }, maxSubscriptions)
    this.client.protocolVersion = SSE_PROTOCOL_VERSION
  }

  /** Fires when the stream ends, for whatever reason: handlers still running for this session stop. */
  get signal (): AbortSignal {
    return this.ended.signal
  }

  /** True when the client stopped reading and the stream was cut (see `SseStream`). */
  get overflowed (): boolean {
    return this.stream.overflowed
  }

  /** Sends the `endpoint` event that tells the client where to POST, then starts the keep-alive comments. */
  open (endpoint: string, keepAliveMs: number): void {
    this.stream.send('endpoint', endpoint)
    this.stream.startKeepAlive(keepAliveMs)
  }

  /** Sends a message as an `event: message`; a message that reached the stream counts as activity. */
  send (message: JsonRpcMessage): void {
    if (this.stream.send('message', JSON.stringify(message))) this.lastActivity = Date.now()
  }

  close (reason: SessionCloseReason): void {
    this.closedFor ??= reason
    this.detach?.()
    this.stream.end()
    this.ended.abort(new Error(`SSE session ended (${reason})`))
  }

  /** The connection closed (client gone, or cut for overflow): only our timers and handlers need stopping. */
  disconnected (): void {
    this.detach?.()
    this.stream.dispose()
    this.ended.abort(new Error('SSE client disconnected'))
  }
}
