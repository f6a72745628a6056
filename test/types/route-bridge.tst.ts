import Fastify from 'fastify'
import { expect, test } from 'tstyche'
import { Type } from 'typebox'
import mcpPlugin, { defineTool, definePrompt, defineResource, type BridgedTool, type McpBridgeCall } from 'fastify-mcp-host'

const app = Fastify()

test('a route is marked with config.mcp: true or its tool options', () => {
  expect(app.get('/a', { config: { mcp: true } }, async () => ({}))).type.not.toRaiseError()
  expect(app.get('/b', {
    config: { mcp: { name: 'b', title: 'B', description: 'Bee', annotations: { readOnlyHint: true, title: 'B' }, scopes: ['read'], timeoutMs: 1000, headers: true } },
    schema: { operationId: 'getB', summary: 'Get B', description: 'Gets B' }
  }, async () => ({}))).type.not.toRaiseError()
})

// Fastify infers a route's config type from the object given, so a misspelt field (or config.mcp: 'yes') compiles;
// those stop start-up with a message naming the route. A known field of the wrong type does not compile.
test('a config.mcp field of the wrong type fails to compile', () => {
  expect(app.get('/e', { config: { mcp: { timeoutMs: '5s' } } }, async () => ({}))).type.toRaiseError()
  expect(app.get('/s', { config: { mcp: { scopes: 'read' } } }, async () => ({}))).type.toRaiseError()
})

test('request.mcpBridge is the MCP call behind the request, or null, and read-only', () => {
  app.get('/g', async (request) => {
    expect(request.mcpBridge).type.toBe<McpBridgeCall | null>()
    expect(request.mcpBridge?.auth?.id).type.toBe<string | undefined>()
    expect(() => { request.mcpBridge = null }).type.toRaiseError()
    return {}
  })
})

test('fastify.mcp adds and removes definitions and lists the bridged tools', () => {
  const tool = defineTool({ name: 't', description: 'T', input: Type.Object({}), handler: () => 't' })
  expect(app.mcp.addTool(tool)).type.toBe<void>()
  expect(app.mcp.removeTool('t')).type.toBe<boolean>()
  expect(app.mcp.addResource(defineResource({ uri: 'memo://a', name: 'a', handler: () => 'a' }))).type.toBe<void>()
  expect(app.mcp.removeResource('memo://a')).type.toBe<boolean>()
  expect(app.mcp.addPrompt(definePrompt({ name: 'p', handler: () => 'p' }))).type.toBe<void>()
  expect(app.mcp.removePrompt('p')).type.toBe<boolean>()
  expect(app.mcp.bridgedTools()).type.toBe<BridgedTool[]>()
  expect(app.mcp.addTool('t')).type.toRaiseError()
})

test('bridge.forwardHeaders is an option; a misspelling is not', () => {
  expect(app.register(mcpPlugin, { auth: false, bridge: { forwardHeaders: ['accept-language'] } })).type.not.toRaiseError()
  expect(app.register(mcpPlugin, { auth: false, bridge: { forwardHeader: ['accept-language'] } })).type.toRaiseError()
})
