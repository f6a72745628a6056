import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { TestContext } from 'node:test'
import type { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { spawnServer } from '../helpers/spawn-server.js'
import { connectHttp } from '../helpers/clients.js'
import { PACKAGE_VERSION } from '../../plugin/version.js'
import fixtureTools from '../fixtures/tools.js'
import { TOKEN, TOOLS_FIXTURE } from './support.js'

/** `node server --tools <fixture>` with one token, and an SDK client connected to its /mcp. */
async function clientOfFixtureServer (t: TestContext): Promise<Client> {
  const server = await spawnServer(t, ['--tools', TOOLS_FIXTURE], { MCP_TOKEN: TOKEN })
  return await connectHttp(t, `${server.baseUrl}/mcp`, TOKEN)
}

test('the SDK client initializes against node server, which names itself and its version', async (t) => {
  const client = await clientOfFixtureServer(t)
  assert.deepEqual(client.getServerVersion(), { name: 'fastify-mcp-host', version: PACKAGE_VERSION })
  assert.ok(client.getServerCapabilities()?.tools, 'the server announces the tools capability')
})

test('node server lists the tools of the --tools module with their input schemas', async (t) => {
  const client = await clientOfFixtureServer(t)
  const { tools } = await client.listTools()
  assert.deepEqual(tools.map((tool) => tool.name).sort(), fixtureTools.map((tool) => tool.name).sort())
  assert.ok(tools.some((tool) => tool.name === 'chatty'), 'the fixture\'s own tool is listed (sanity check)')
  assert.deepEqual(tools.find((tool) => tool.name === 'add')?.inputSchema.required, ['a', 'b'])
})

test('node server calls a tool from the --tools module and returns its structured result', async (t) => {
  const client = await clientOfFixtureServer(t)
  const result = await client.callTool({ name: 'add', arguments: { a: 2, b: 40 } })
  assert.deepEqual(result.structuredContent, { sum: 42 })
  assert.deepEqual(result.content, [{ type: 'text', text: '{"sum":42}' }])
})

test('node server answers invalid arguments with a tool error naming the failing path', async (t) => {
  const client = await clientOfFixtureServer(t)
  const result = await client.callTool({ name: 'add', arguments: { a: 'two', b: 1 } })
  assert.equal(result.isError, true)
  assert.match((result.content as Array<{ text: string }>)[0].text, /Invalid arguments for tool "add".*\/a must be number/)
})

test('node server answers an unknown tool with JSON-RPC error -32602', async (t) => {
  const client = await clientOfFixtureServer(t)
  await assert.rejects(client.callTool({ name: 'launch_rockets', arguments: {} }), (error: { code: number, message: string }) => {
    assert.equal(error.code, -32602)
    assert.match(error.message, /Unknown tool: "launch_rockets"/)
    return true
  })
})

test('node server turns a throwing tool into a tool error with the message', async (t) => {
  const client = await clientOfFixtureServer(t)
  const result = await client.callTool({ name: 'fail', arguments: {} })
  assert.equal(result.isError, true)
  assert.deepEqual(result.content, [{ type: 'text', text: 'the database is unreachable' }])
})

test('without --tools, node server serves the built-in server_status tool', async (t) => {
  const server = await spawnServer(t, [], { MCP_TOKEN: TOKEN })
  const client = await connectHttp(t, `${server.baseUrl}/mcp`, TOKEN)
  const { tools } = await client.listTools()
  assert.deepEqual(tools.map((tool) => tool.name), ['server_status'])
  assert.equal(tools[0].annotations?.readOnlyHint, true)
  const result = await client.callTool({ name: 'server_status', arguments: {} })
  const status = result.structuredContent as Record<string, any>
  assert.equal(status.status, 'ok')
  assert.deepEqual(status.server, { name: 'fastify-mcp-host', version: PACKAGE_VERSION })
  assert.equal(typeof status.uptimeSeconds, 'number')
  assert.deepEqual(status.transports, { streamableHttp: true, sse: true })
  assert.deepEqual(status.sessions, { sse: 0, listen: 0 })
  assert.equal(status.transport, 'streamable-http')
  assert.match(status.caller, /^token-[0-9a-f]{8}$/)
})

test('a JsonRpcError thrown by a --tools module is a JSON-RPC error, though node server runs its own bundled copy', async (t) => {
  const client = await clientOfFixtureServer(t)
  await assert.rejects(client.callTool({ name: 'refuse', arguments: {} }), (error: { code: number, message: string, data: unknown }) => {
    assert.equal(error.code, -32602)
    assert.match(error.message, /refused on purpose/)
    assert.deepEqual(error.data, { reason: 'test' })
    return true
  })
})
