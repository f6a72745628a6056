import type { AuthIdentity } from '../protocol/identity.js'
import type { Logger } from '../protocol/logger.js'
import type { CallObserver } from '../dispatch/call-observer.js'

/** Kinds of long-lived streams, as logs and metrics name them. */
export type StreamKind = 'sse' | 'stateful-session' | 'stateful-stream' | 'listen'

/** Why a refused request was refused, for the refusal counter (bounded: one of these). */
export type RefusalReason =
  | 'unauthorized' | 'forbidden' | 'payload_too_large' | 'too_many_requests' | 'capacity' | 'draining' | 'unavailable' | 'bad_request' | 'other'

/** The request a refusal or a stream belongs to, as far as telemetry needs it. */
export interface RequestFacts {
  readonly id: string
  readonly mcpAuth?: AuthIdentity | null
  readonly url: string
}

/** One open stream: told once when and why it ended. */
export interface StreamWatch {
  closed: (why: string) => void
}

/**
 * What the transports tell telemetry beside the calls the dispatcher observes: refusals before dispatch, streams
 * that open and close, streams cut for slow readers. Absent (`leg.telemetry` undefined) when nothing is on.
 */
export interface McpTelemetry {
  /** For the dispatcher; undefined when no observer is on. */
  readonly observer: CallObserver | undefined
  /** A refusal: counted, and logged when the per-call lines are on. */
  refused: (request: RequestFacts, status: number, code: number, message: string, reason?: RefusalReason) => void
  /** A refusal that writes its own log line elsewhere (auth, the DNS-rebinding guard): counted only. */
  refusedQuietly: (status: number, reason?: RefusalReason) => void
  streamOpened: (kind: StreamKind, request: RequestFacts | undefined, sessionId: string) => StreamWatch
  /** A stream was cut because its client stopped reading. */
  slowReader: (kind: StreamKind | 'post') => void
}

/** The refusal reason an HTTP status stands for, when the refusal did not name one. */
export function reasonOfStatus (status: number): RefusalReason {
  switch (status) {
    case 401: return 'unauthorized'
    case 403: return 'forbidden'
    case 413: return 'payload_too_large'
    case 429: return 'too_many_requests'
    case 503: return 'capacity'
    default: return status >= 400 && status < 500 ? 'bad_request' : 'other'
  }
}

/** What metrics count of the transports' events. */
export interface TelemetryEvents {
  refused: (status: number, reason: RefusalReason) => void
  streamOpened: (kind: StreamKind) => StreamWatch
  slowReader: (kind: StreamKind | 'post') => void
}

/** The parts telemetry is made of: any of them may be off. */
export interface TelemetryParts {
  /** The per-call log line and the stream lines go here (the app's logger); undefined: no lines. */
  log: Logger | undefined
  idLabel: string
  /** Spans, metrics: observers beside the log line. */
  observers: CallObserver[]
  /** Counters and gauges of the transports' events (metrics). */
  events?: TelemetryEvents
}

/** Several observers as one (each gets its own watch); undefined for none, the one itself for one. */
export function combineObservers (observers: CallObserver[]): CallObserver | undefined {
  if (observers.length <= 1) return observers[0]
  return {
    begin: (request, env) => observers.map((observer) => observer.begin(request, env)),
    within: (watch, run) => {
      const watches = watch as unknown[]
      let wrapped = run
      observers.forEach((observer, index) => {
        if (observer.within === undefined) return
        const inner = wrapped
        wrapped = () => (observer.within as NonNullable<CallObserver['within']>)(watches[index], inner)
      })
      return wrapped()
    },
    end: (request, env, response, watch) => {
      const watches = watch as unknown[]
      observers.forEach((observer, index) => { observer.end(request, env, response, watches[index]) })
    },
    progress: (request, notification) => { for (const observer of observers) observer.progress?.(request, notification) },
    message: (message, env) => { for (const observer of observers) observer.message?.(message, env) }
  }
}

/** Puts the parts together; undefined when every part is off, so that the transports check one field. */
export function assembleTelemetry (parts: TelemetryParts, callLog: CallObserver | undefined): McpTelemetry | undefined {
  const { log, idLabel, events } = parts
  const observers = callLog === undefined ? parts.observers : [callLog, ...parts.observers]
  if (log === undefined && observers.length === 0 && events === undefined) return undefined
  return {
    observer: combineObservers(observers),
    refused (request, status, code, message, reason = reasonOfStatus(status)) {
      events?.refused(status, reason)
      if (log === undefined) return
      const line: Record<string, unknown> = { [idLabel]: request.id, status, code, reason, url: request.url.split('?', 1)[0] }
      if (request.mcpAuth != null) line.identity = request.mcpAuth.id
      line.why = message
      log.info(line, 'MCP request refused')
    },
    refusedQuietly (status, reason = reasonOfStatus(status)) { events?.refused(status, reason) },
    streamOpened (kind, request, sessionId) {
      const watch = events?.streamOpened(kind)
      const openedAt = performance.now()
      if (log !== undefined) {
        const line: Record<string, unknown> = request === undefined ? {} : { [idLabel]: request.id }
        line.stream = kind
        line.sessionId = sessionId
        if (request?.mcpAuth != null) line.identity = request.mcpAuth.id
        log.info(line, 'MCP stream opened')
      }
      let open = true
      return {
        closed (why) {
          if (!open) return
          open = false
          watch?.closed(why)
          if (log !== undefined) log.info({ stream: kind, sessionId, why, durationMs: Math.round(performance.now() - openedAt) }, 'MCP stream closed')
        }
      }
    },
    slowReader (kind) { events?.slowReader(kind) }
  }
}
