import type { JsonRpcMessage } from '../protocol/jsonrpc.js'
import type { AuthIdentity } from '../protocol/identity.js'
import { createClientSession, type ClientSession } from '../protocol/client-session.js'
import type { SessionCloseReason, StoredSession } from '../sessions/session-store.js'
import type { SseStream } from './sse-stream.js'

/** One legacy HTTP+SSE session: its event stream, its protocol state, and a signal that fires when it ends. */
export class SseSession implements StoredSession {
  lastActivity = Date.now()
  readonly client: ClientSession
  /** Requests posted to this session and not yet answered (bounded by `maxInFlight`). */
  pendingRequests = 0
  private readonly ended = new AbortController()

  constructor (
    readonly id: string,
    readonly owner: AuthIdentity | undefined,
    private readonly stream: SseStream,
    private readonly onOverflow: (session: SseSession) => void
  ) {
    this.client = createClientSession(id, owner, (message) => { this.send(message) })
  }

  /** Fires when the stream ends, for whatever reason: handlers still running for this session stop. */
  get signal (): AbortSignal {
    return this.ended.signal
  }

  send (message: JsonRpcMessage): void {
    if (!this.stream.send('message', JSON.stringify(message))) {
      if (this.stream.overflowed) this.onOverflow(this)
      return
    }
    this.lastActivity = Date.now()
  }

  close (reason: SessionCloseReason): void {
    this.stream.end()
    this.ended.abort(new Error(`SSE session ended (${reason})`))
  }

  /** The client went away: the socket is gone, only our timers and handlers need stopping. */
  disconnected (): void {
    this.stream.dispose()
    this.ended.abort(new Error('SSE client disconnected'))
  }
}
