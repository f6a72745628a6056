import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { CallObserver } from '../../dispatch/call-observer.js'
import type { McpStatus } from '../../status.js'
import { outcomeOf } from '../call-outcome.js'
import type { StreamKind, TelemetryEvents } from '../telemetry.js'

/** The buckets the MCP conventions give `mcp.server.operation.duration`, in seconds. */
export const DURATION_BUCKETS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300]

/** Methods that get their own series; anything else a client sends is counted as `_OTHER`. */
const KNOWN_METHODS = new Set([
  'initialize', 'ping', 'logging/setLevel', 'server/discover', 'tools/list', 'tools/call', 'resources/list',
  'resources/templates/list', 'resources/read', 'resources/subscribe', 'resources/unsubscribe', 'prompts/list',
  'prompts/get', 'completion/complete', 'subscriptions/listen'
])

/** Error codes that get their own series (JSON-RPC's and MCP's); others count as `_OTHER`. */
const KNOWN_CODES = new Set([-32700, -32600, -32601, -32602, -32603, -32000, -32001, -32002, -32020, -32021, -32022])

/** A prom-client `Registry` (declared loosely, so that the plugin's types do not need prom-client installed). */
export interface MetricsRegistry {
  readonly contentType: string
  metrics: () => Promise<string>
}

export interface McpMetrics {
  registry: MetricsRegistry
  observer: CallObserver
  events: TelemetryEvents
}

/** Whether a tool name is one the server serves now: unknown names never make a series. */
export type KnownTool = (name: string) => boolean

/**
 * The host's MCP series in a registry of their own (the host serves it or merges it into its own): operation
 * durations by method, tool and error type (bounded: unknown methods, tools and codes fold into `_OTHER`),
 * refusals by reason, streams cut for slow readers; open sessions and calls in flight are read from `status()`
 * at scrape time, costing requests nothing.
 */
export async function createMcpMetrics (status: () => McpStatus, knownTool: KnownTool): Promise<McpMetrics> {
  const registry = new Registry()
  const duration = new Histogram({
    name: 'mcp_server_operation_duration_seconds',
    help: 'MCP request duration as the server saw it, from receipt until the answer was ready (mcp.server.operation.duration)',
    labelNames: ['method', 'tool', 'error_type'] as const,
    buckets: DURATION_BUCKETS,
    registers: [registry]
  })
  const refusals = new Counter({
    name: 'mcp_server_refusals_total',
    help: 'MCP requests refused before they ran, by HTTP status and reason',
    labelNames: ['status', 'reason'] as const,
    registers: [registry]
  })
  const cut = new Counter({
    name: 'mcp_server_streams_cut_total',
    help: 'Event streams cut because their client stopped reading (more than maxBufferedBytes waited)',
    labelNames: ['stream'] as const,
    registers: [registry]
  })
  const opened = new Counter({
    name: 'mcp_server_streams_opened_total',
    help: 'Long-lived streams opened (SSE sessions, stateful GET streams, 2026 listen streams)',
    labelNames: ['stream'] as const,
    registers: [registry]
  })
  // Read at scrape time.
  registry.registerMetric(new Gauge({
    name: 'mcp_server_sessions',
    help: 'Sessions and streams open in this process, by transport',
    labelNames: ['transport'] as const,
    registers: [],
    collect () {
      const sessions = status().sessions
      this.set({ transport: 'sse' }, sessions.sse)
      if (sessions.streamableHttp !== undefined) this.set({ transport: 'streamable_http' }, sessions.streamableHttp)
      this.set({ transport: 'listen' }, sessions.listen)
    }
  }))
  registry.registerMetric(new Gauge({
    name: 'mcp_server_calls_in_flight',
    help: 'MCP requests running now',
    registers: [],
    collect () { this.set(status().inFlight) }
  }))

  const observer: CallObserver = {
    begin: () => performance.now(),
    end (request, _env, response, startedAt) {
      const method = KNOWN_METHODS.has(request.method) ? request.method : '_OTHER'
      const name = request.method === 'tools/call' ? request.params?.name : undefined
      const tool = typeof name === 'string' ? (knownTool(name) ? name : '_OTHER') : ''
      const outcome = outcomeOf(response)
      let errorType = ''
      if (outcome === 'error') {
        const code = (response as { error: { code: number } }).error.code
        errorType = KNOWN_CODES.has(code) ? String(code) : '_OTHER'
      } else if (outcome === 'tool_error' || outcome === 'cancelled') errorType = outcome
      duration.observe({ method, tool, error_type: errorType }, (performance.now() - (startedAt as number)) / 1000)
    }
  }
  const events: TelemetryEvents = {
    refused: (status, reason) => { refusals.inc({ status: String(status), reason }) },
    streamOpened (kind: StreamKind) {
      opened.inc({ stream: kind })
      return { closed () {} }
    },
    slowReader: (kind) => { cut.inc({ stream: kind }) }
  }
  return { registry, observer, events }
}
