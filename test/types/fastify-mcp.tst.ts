import Fastify from 'fastify'
import { expect, test } from 'tstyche'
import type { AuthIdentity, McpStatus } from 'fastify-mcp-host'
import 'fastify-mcp-host'

const app = Fastify()

test('fastify.mcp is typed on every instance once the package is imported', () => {
  expect(app.mcp.status()).type.toBe<McpStatus>()
  expect(app.mcp.drain()).type.toBe<Promise<void>>()
  expect(app.mcp.drain(5_000)).type.toBe<Promise<void>>()
  expect(app.mcp.notifyListChanged('tools')).type.toBe<Promise<number>>()
  expect(app.mcp.notifyResourceUpdated('file:///a')).type.toBe<Promise<number>>()
})

test('fastify.mcp refuses what it does not know', () => {
  expect(app.mcp.notifyListChanged('widgets')).type.toRaiseError()
  expect(app.mcp.drain('soon')).type.toRaiseError()
})

test('request.mcpAuth is the caller the bearer auth accepted, or null', () => {
  app.get('/me', async (request) => {
    expect(request.mcpAuth).type.toBe<AuthIdentity | null>()
    return request.mcpAuth?.id
  })
})
