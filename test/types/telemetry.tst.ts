import Fastify from 'fastify'
import { expect, test } from 'tstyche'
import mcpPlugin, { type MetricsRegistry } from 'fastify-mcp-host'

const app = Fastify()

test('telemetry takes logCalls, tracing (auto or false) and metrics, each optional', () => {
  expect(app.register(mcpPlugin, { auth: false, tools: [], telemetry: { metrics: true } })).type.not.toRaiseError()
  expect(app.register(mcpPlugin, { auth: false, tools: [], telemetry: { logCalls: false, tracing: false, metrics: false } })).type.not.toRaiseError()
  expect(app.register(mcpPlugin, { auth: false, tools: [], telemetry: { tracing: 'auto' } })).type.not.toRaiseError()
  expect(app.register(mcpPlugin, { auth: false, tools: [], telemetry: { tracing: true } })).type.toRaiseError()
  expect(app.register(mcpPlugin, { auth: false, tools: [], telemetry: { metrics: 'yes' } })).type.toRaiseError()
})

test('fastify.mcp.metrics is the registry, or undefined with metrics off', () => {
  expect(app.mcp.metrics).type.toBe<MetricsRegistry | undefined>()
  expect(app.mcp.metrics?.contentType).type.toBe<string | undefined>()
  expect(app.mcp.metrics?.metrics()).type.toBe<Promise<string> | undefined>()
})
