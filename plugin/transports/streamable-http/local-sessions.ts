import type { AuthIdentity } from '../../protocol/identity.js'
import { RunningRequests, tooManySubscriptions, type ClientHello, type ClientSession } from '../../protocol/client-session.js'
import type { LoggingLevel } from '../../protocol/spec.js'
import type { SessionEndReason, SessionState, SessionStateStore } from '../../sessions/session-state.js'
import type { ConnectionEnd, SessionStreamConnection } from './session-stream-connection.js'

/** What this process holds of one stateful session: the calls it runs for it and the connections it carries. */
export class LocalSession {
  readonly inFlight = new RunningRequests()
  readonly connections = new Set<SessionStreamConnection>()
  private readonly ended = new AbortController()

  constructor (readonly id: string) {}

  /** Fires when the session ends (DELETE, idle timeout, shutdown): its calls here stop. */
  get signal (): AbortSignal {
    return this.ended.signal
  }

  get idle (): boolean {
    return this.inFlight.size === 0 && this.connections.size === 0
  }

  end (reason: SessionEndReason): void {
    this.ended.abort(new Error(`Streamable HTTP session ended (${reason})`))
    const why: ConnectionEnd = reason === 'shutdown' ? 'shutdown' : 'session-ended'
    for (const connection of [...this.connections]) connection.end(why)
  }
}

/** The stateful sessions this process is serving right now; a session nothing runs or streams for here is let go. */
export class LocalSessions {
  private readonly sessions = new Map<string, LocalSession>()

  get size (): number {
    return this.sessions.size
  }

  get (id: string): LocalSession | undefined {
    return this.sessions.get(id)
  }

  acquire (id: string): LocalSession {
    let session = this.sessions.get(id)
    if (session === undefined) this.sessions.set(id, session = new LocalSession(id))
    return session
  }

  /** Lets the session go once nothing of it is left here. */
  release (session: LocalSession): void {
    if (session.idle && this.sessions.get(session.id) === session) this.sessions.delete(session.id)
  }

  /** Carries a connection for the session; it is forgotten when it ends. */
  attach (session: LocalSession, connection: SessionStreamConnection): void {
    session.connections.add(connection)
    connection.whenEnded(() => {
      session.connections.delete(connection)
      this.release(session)
    })
  }

  /** The session ended, wherever it was ended: stop what runs for it here. */
  ended (id: string, reason: SessionEndReason): void {
    const session = this.sessions.get(id)
    if (session === undefined) return
    this.sessions.delete(id)
    session.end(reason)
  }

  endAll (reason: SessionEndReason): void {
    for (const id of [...this.sessions.keys()]) this.ended(id, reason)
  }
}

/**
 * A stateful session as the dispatcher sees it during one request: what the store holds, the calls running here,
 * and writes (initialize, logging/setLevel, subscriptions) that go back to the store.
 */
export class StoredClientSession implements ClientSession {
  constructor (
    private readonly state: SessionState,
    readonly owner: AuthIdentity | undefined,
    private readonly local: LocalSession,
    private readonly store: SessionStateStore,
    private readonly maxSubscriptions: number
  ) {}

  get id (): string { return this.state.id }
  get protocolVersion (): string | undefined { return this.state.protocolVersion }
  get clientInfo (): ClientSession['clientInfo'] { return this.state.clientInfo }
  get clientCapabilities (): ClientSession['clientCapabilities'] { return this.state.clientCapabilities }
  get logLevel (): LoggingLevel | undefined { return this.state.logLevel }
  get inFlight (): RunningRequests { return this.local.inFlight }

  /** Change notifications reach stateful sessions through the store (see the transport's relay), not through here. */
  readonly send = undefined

  async initialized (hello: ClientHello): Promise<void> {
    await this.store.update(this.state.id, hello)
  }

  async setLogLevel (level: LoggingLevel): Promise<void> {
    await this.store.update(this.state.id, { logLevel: level })
  }

  async subscribe (uri: string): Promise<void> {
    if (!await this.store.subscribe(this.state.id, uri, this.maxSubscriptions)) throw tooManySubscriptions(this.maxSubscriptions)
  }

  async unsubscribe (uri: string): Promise<void> { await this.store.unsubscribe(this.state.id, uri) }
}
