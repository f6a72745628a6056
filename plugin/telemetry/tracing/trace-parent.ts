import { createTraceState, propagation, ROOT_CONTEXT, trace, TraceFlags, type Context, type TextMapGetter } from '@opentelemetry/api'

const META_GETTER: TextMapGetter<Record<string, unknown>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const value = carrier[key]
    return typeof value === 'string' ? value : undefined
  }
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/

/**
 * The remote parent a client put in the request's `params._meta` (`traceparent`, `tracestate`, `baggage`, unprefixed
 * as the MCP conventions say), through the app's propagators; when none is registered, W3C Trace Context is read
 * directly. Undefined when `_meta` carries no valid trace context.
 */
export function parentFromMeta (meta: unknown): Context | undefined {
  if (typeof meta !== 'object' || meta === null) return undefined
  const carrier = meta as Record<string, unknown>
  if (typeof carrier.traceparent !== 'string') return undefined
  const extracted = propagation.extract(ROOT_CONTEXT, carrier, META_GETTER)
  if (trace.getSpanContext(extracted) !== undefined) return extracted
  const match = TRACEPARENT.exec(carrier.traceparent.trim())
  if (match === null || /^0+$/.test(match[1]) || /^0+$/.test(match[2])) return undefined
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: match[1],
    spanId: match[2],
    traceFlags: parseInt(match[3], 16) & TraceFlags.SAMPLED,
    isRemote: true,
    traceState: typeof carrier.tracestate === 'string' ? createTraceState(carrier.tracestate) : undefined
  })
}
