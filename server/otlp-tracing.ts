import { ConfigError } from './config-error.js'
import { PACKAGE_NAME, PACKAGE_VERSION } from '../plugin/version.js'

/** Flushes and stops the tracer provider (at shutdown). */
export type StopTracing = () => Promise<void>

/** The optional packages tracing needs, and how to get them when they are missing. */
const PACKAGES = '@opentelemetry/api @opentelemetry/sdk-trace-node @opentelemetry/exporter-trace-otlp-http @opentelemetry/resources'

/**
 * Turns tracing on for `node server` when an OTLP endpoint is configured: a Node tracer provider exporting in batches
 * over OTLP/HTTP (the exporter reads the other OTEL_EXPORTER_OTLP_* variables itself: headers, timeout), registered
 * globally with W3C trace context, before the plugin registers (it looks for a provider then). The packages are
 * optional dependencies, loaded only here.
 */
export async function startOtlpTracing (): Promise<StopTracing> {
  let modules
  try {
    modules = await Promise.all([
      import('@opentelemetry/sdk-trace-node'),
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/resources')
    ])
  } catch (error) {
    throw new ConfigError(`OTEL_EXPORTER_OTLP_ENDPOINT is set, but the tracing packages are not installed (${(error as Error).message.split('\n')[0]}); ` +
      `install them with: npm install ${PACKAGES}`)
  }
  const [{ NodeTracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, { resourceFromAttributes }] = modules
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      'service.name': process.env.OTEL_SERVICE_NAME ?? PACKAGE_NAME,
      'service.version': PACKAGE_VERSION
    }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())]
  })
  provider.register()
  return async () => { await provider.shutdown() }
}
