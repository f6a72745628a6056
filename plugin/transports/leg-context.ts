import type { Dispatcher } from '../dispatch/dispatcher.js'
import type { Lifecycle } from '../lifecycle.js'
import type { McpConfig } from '../options.js'
import type { SessionStore } from '../sessions/session-store.js'
import type { IdentityCap } from '../sessions/identity-cap.js'
import type { SseSession } from './legacy-sse/sse-session.js'
import type { StreamableSession } from './streamable-http/streamable-session.js'

/** The one small object every transport leg is registered with. */
export interface LegContext {
  dispatcher: Dispatcher
  lifecycle: Lifecycle
  config: McpConfig
  /** Legacy SSE sessions; present when the SSE routes are on. */
  sseSessions: SessionStore<SseSession> | undefined
  /** Stateful Streamable HTTP sessions; present when `streamable.sessions` is on. */
  streamableSessions: SessionStore<StreamableSession> | undefined
  /** `maxSessionsPerIdentity`, counted over both stores. */
  identityCap: IdentityCap
}
