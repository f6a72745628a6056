import type { McpConfig } from '../options.js'
import type { CallObserver } from '../dispatch/call-observer.js'
import type { Logger } from '../protocol/logger.js'
import type { McpStatus } from '../status.js'
import { createCallLog } from './call-log.js'
import { assembleTelemetry, type McpTelemetry } from './telemetry.js'
import { tracerProviderRegistered } from './otel-global.js'
import type { MetricsRegistry } from './metrics/mcp-metrics.js'
import { configErrors } from '../errors.js'

export interface TelemetrySetup {
  /** Undefined when logs, spans and metrics are all off: the transports then check one field and do nothing. */
  telemetry: McpTelemetry | undefined
  /** The Prometheus registry of the host's MCP series (`telemetry.metrics`); undefined when off. */
  metrics: MetricsRegistry | undefined
}

export interface TelemetryContext {
  /** The app's logger at `info` or below, when the per-call lines are on; else undefined. */
  callLog: Logger | undefined
  idLabel: string
  /** Read at scrape time (open sessions, calls in flight): gauges cost the requests nothing. */
  status: () => McpStatus
  /** Whether a tool is served now (metrics give unknown tool names no series of their own). */
  knownTool: (name: string) => boolean
}

/**
 * Turns on what is configured, loading each part's code only then: spans need a registered tracer provider
 * (checked without importing anything), metrics need `telemetry.metrics`. The log line is always at hand.
 */
export async function createTelemetry (config: McpConfig['telemetry'], context: TelemetryContext): Promise<TelemetrySetup> {
  const observers: CallObserver[] = []
  if (config.tracing === 'auto' && tracerProviderRegistered()) {
    const { createTracing } = await import('./tracing/mcp-tracing.js')
    observers.push(await createTracing())
  }
  let metrics: MetricsRegistry | undefined
  let events
  if (config.metrics) {
    const { createMcpMetrics } = await import('./metrics/mcp-metrics.js').catch((error: unknown) => {
      throw configErrors.invalidOptions(`telemetry.metrics needs the prom-client package: npm install prom-client (${(error as Error).message.split('\n')[0]})`)
    })
    const made = await createMcpMetrics(context.status, context.knownTool)
    metrics = made.registry
    observers.push(made.observer)
    events = made.events
  }
  const callLog = context.callLog === undefined ? undefined : createCallLog(context.callLog, context.idLabel)
  const telemetry = assembleTelemetry({ log: context.callLog, idLabel: context.idLabel, observers, events }, callLog)
  return { telemetry, metrics }
}
