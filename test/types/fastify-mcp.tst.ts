import Fastify from 'fastify'
import { expect, test } from 'tstyche'
import { Type } from 'typebox'
import { defineTool, defineResource, definePrompt, type AuthIdentity, type BridgedTool, type McpStatus } from 'fastify-mcp-host'
import 'fastify-mcp-host'

const app = Fastify()

test('fastify.mcp is typed on every instance once the package is imported', () => {
  expect(app.mcp.status()).type.toBe<McpStatus>()
  expect(app.mcp.drain()).type.toBe<Promise<void>>()
  expect(app.mcp.drain(5_000)).type.toBe<Promise<void>>()
  expect(app.mcp.notifyListChanged('tools')).type.toBe<Promise<number>>()
  expect(app.mcp.notifyResourceUpdated('file:///a')).type.toBe<Promise<number>>()
})

test('fastify.mcp changes the lists with definitions, and removes them by name or URI', () => {
  expect(app.mcp.addTool(defineTool({ name: 'ping', description: 'Pings', input: Type.Object({}), handler: () => 'pong' }))).type.toBe<void>()
  expect(app.mcp.removeTool('ping')).type.toBe<boolean>()
  expect(app.mcp.addResource(defineResource({ uri: 'docs://a', name: 'a', handler: () => 'a' }))).type.toBe<void>()
  expect(app.mcp.removeResource('docs://a')).type.toBe<boolean>()
  expect(app.mcp.addPrompt(definePrompt({ name: 'p', handler: () => 'p' }))).type.toBe<void>()
  expect(app.mcp.removePrompt('p')).type.toBe<boolean>()
  expect(app.mcp.bridgedTools()).type.toBe<BridgedTool[]>()
})

test('fastify.mcp refuses what it does not know', () => {
  expect(app.mcp.addTool({ name: 'no-handler' })).type.toRaiseError()
  expect(app.mcp.addResource({ name: 'no-uri', handler: () => 'a' })).type.toRaiseError()
  expect(app.mcp.removeTool(42)).type.toRaiseError()
  expect(app.mcp.notifyListChanged('widgets')).type.toRaiseError()
  expect(app.mcp.drain('soon')).type.toRaiseError()
})

test('request.mcpAuth is the caller auth accepted, null without auth, undefined outside the MCP routes', () => {
  app.get('/me', async (request) => {
    expect(request.mcpAuth).type.toBe<AuthIdentity | null | undefined>()
    return request.mcpAuth?.id
  })
})
