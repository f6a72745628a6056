/**
 * `@opentelemetry/api` keeps what an application registered (tracer provider, propagator, context manager) in one
 * global object per major version. Reading it tells whether a tracer provider was registered, without importing
 * the API: with none, the plugin loads nothing of OpenTelemetry.
 */
const OTEL_API_GLOBAL = Symbol.for('opentelemetry.js.api.1')

export function tracerProviderRegistered (): boolean {
  const registered = (globalThis as Record<symbol, { trace?: unknown } | undefined>)[OTEL_API_GLOBAL]
  return registered?.trace !== undefined
}
