import { pino } from 'pino'
import { createDispatcher, PACKAGE_NAME, PACKAGE_VERSION, type AnyTool } from '../plugin/core.js'
import type { CallObserver } from '../plugin/dispatch/call-observer.js'
import { createCallLog } from '../plugin/telemetry/call-log.js'
import { combineObservers } from '../plugin/telemetry/telemetry.js'
import { serveStdio } from '../plugin/transports/stdio/stdio-server.js'
import { protectStdout } from '../plugin/transports/stdio/stdout-guard.js'
import type { ServerConfig } from './config.js'
import { createBuiltinTools } from './builtin-tools.js'
import { loadTools } from './load-tools.js'

/** `--transport stdio`: the same tools over stdin/stdout. Loads no HTTP code; logs go to stderr. */
export async function startStdioServer (config: ServerConfig): Promise<void> {
  const log = pino({ level: config.logLevel }, pino.destination(2))
  // stdout carries protocol messages only, from before the tools module loads: whatever it or a tool writes to
  // process.stdout (console.log included) goes to stderr.
  const output = protectStdout()
  const startedAt = Date.now()
  const loaded = config.toolsModule !== undefined ? await loadTools(config.toolsModule) : undefined
  const tools: AnyTool[] = loaded?.tools ?? createBuiltinTools(() => ({
    status: 'ok',
    server: { name: PACKAGE_NAME, version: PACKAGE_VERSION },
    uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
    transports: { stdio: true }
  }))
  const observers: CallObserver[] = []
  // One line per message on stderr, as over HTTP (MCP_LOG_CALLS=0 turns it off).
  if (config.options.telemetry.logCalls && log.isLevelEnabled('info')) observers.push(createCallLog(log))
  let stopTracing: (() => Promise<void>) | undefined
  if (config.otlpEndpoint !== undefined || config.otlpTracesEndpoint !== undefined) {
    stopTracing = await (await import('./otlp-tracing.js')).startOtlpTracing()
    observers.push(await (await import('../plugin/telemetry/tracing/mcp-tracing.js')).createTracing())
  }
  const dispatcher = createDispatcher({
    info: { name: PACKAGE_NAME, version: PACKAGE_VERSION },
    tools,
    resources: loaded?.resources,
    prompts: loaded?.prompts,
    toolTimeoutMs: config.options.toolTimeoutMs,
    requestStateSecret: config.options.requestStateSecret,
    observer: combineObservers(observers)
  })
  const server = serveStdio({ dispatcher, log, output })
  log.info({ tools: dispatcher.tools.size }, 'MCP server on stdio')
  await server.closed
  log.info('stdin closed: exiting')
  await stopTracing?.()
  // Pipes are asynchronous on some platforms (macOS): let the last answers reach the client before exiting.
  await new Promise((resolve) => output.write('', resolve))
  process.exit(0)
}
