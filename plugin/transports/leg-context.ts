import type { Dispatcher } from '../dispatch/dispatcher.js'
import type { Lifecycle } from '../lifecycle.js'
import type { McpConfig } from '../options.js'
import type { Broker } from '../cluster/broker.js'
import type { SessionStore } from '../sessions/session-store.js'
import type { SessionStateStore } from '../sessions/session-state.js'
import type { SseDirectory } from '../sessions/sse-directory.js'
import type { IdentityCap } from '../sessions/identity-cap.js'
import type { ListenStreams } from '../sessions/listen-streams.js'
import type { SseSession } from './legacy-sse/sse-session.js'
import type { RequestLoggers } from './http/request-loggers.js'
import type { McpTelemetry } from '../telemetry/telemetry.js'

/** The one small object every transport leg is registered with. */
export interface LegContext {
  dispatcher: Dispatcher
  lifecycle: Lifecycle
  config: McpConfig
  /** The legacy SSE streams this process holds; present when the SSE routes are on. */
  sseSessions: SessionStore<SseSession> | undefined
  /** Which replica holds each SSE stream; present in cluster mode only. */
  sseDirectory: SseDirectory | undefined
  /** Stateful Streamable HTTP sessions (memory, or shared in cluster mode); present when `streamable.sessions` is on. */
  statefulSessions: SessionStateStore | undefined
  /** The 2026-07-28 listen streams this process holds. */
  listenStreams: ListenStreams
  /** `maxSessionsPerIdentity`, counted over every kind of session and stream. */
  identityCap: IdentityCap
  /** The message path to the other replicas; a local one when there are none. */
  broker: Broker
  /** How often a resumed stream checks that the replica running its call is still alive (ms). */
  livenessCheckMs: number
  /** The MCP routes' loggers: a call's own logger is made when a line is written. */
  loggers: RequestLoggers
  /** Refusals, streams and slow readers for logs and metrics; undefined when telemetry is off. */
  telemetry: McpTelemetry | undefined
}
