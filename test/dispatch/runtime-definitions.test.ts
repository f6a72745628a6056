import { test, describe, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { Type } from 'typebox'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import {
  ToolListChangedNotificationSchema, ResourceListChangedNotificationSchema, PromptListChangedNotificationSchema
} from '@modelcontextprotocol/sdk/types.js'
import { Client as ModernClient, StreamableHTTPClientTransport as ModernHttpTransport } from '@modelcontextprotocol/client'
import { defineTool, defineResource, definePrompt, McpConfigError } from '../../plugin/index.js'
import { startApp, TOKEN } from '../helpers/app.js'
import { fixtureTools } from '../helpers/fixture-tools.js'
import { connectSse } from '../helpers/clients.js'

const multiply = defineTool({
  name: 'multiply',
  description: 'Multiplies two numbers',
  input: Type.Object({ a: Type.Number(), b: Type.Number() }),
  output: Type.Object({ product: Type.Number() }),
  handler: ({ a, b }) => ({ product: a * b })
})

function extra (name: string): ReturnType<typeof defineTool> {
  return defineTool({ name, description: `Tool ${name}`, input: Type.Object({}), handler: () => name })
}

/** A stateful 1.x client that records every list-changed notification, in order. */
async function connectRecording (t: TestContext, url: string): Promise<{ client: Client, changes: string[] }> {
  const client = new Client({ name: 'runtime-test', version: '1.0.0' })
  const changes: string[] = []
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => { changes.push('tools') })
  client.setNotificationHandler(ResourceListChangedNotificationSchema, () => { changes.push('resources') })
  client.setNotificationHandler(PromptListChangedNotificationSchema, () => { changes.push('prompts') })
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${TOKEN}` } } }))
  t.after(async () => { await client.close() })
  // The server-to-client stream opens after initialize: a round trip on it makes sure it is there.
  await client.ping()
  return { client, changes }
}

async function until (condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

const toolNames = async (client: Client): Promise<string[]> => (await client.listTools()).tools.map((tool) => tool.name)

describe('tools added and removed while clients are connected (stateful Streamable HTTP, SDK 1.x)', () => {
  test('a connected client is told the list changed, and sees the new tool and can call it', async (t) => {
    const { app, baseUrl } = await startApp(t, { streamable: { sessions: true } })
    const { client, changes } = await connectRecording(t, `${baseUrl}/mcp`)
    assert.ok(!(await toolNames(client)).includes('multiply'))
    app.mcp.addTool(multiply)
    await until(() => changes.length === 1, 'the client heard of the change')
    assert.deepEqual(changes, ['tools'])
    assert.deepEqual(await toolNames(client), [...fixtureTools.map((tool) => tool.name), 'multiply'])
    assert.deepEqual((await client.callTool({ name: 'multiply', arguments: { a: 6, b: 7 } })).structuredContent, { product: 42 })
  })

  test('a removed tool leaves the list, the client is told, and calling it is an unknown tool', async (t) => {
    const { app, baseUrl } = await startApp(t, { streamable: { sessions: true } })
    const { client, changes } = await connectRecording(t, `${baseUrl}/mcp`)
    assert.equal(app.mcp.removeTool('add'), true)
    await until(() => changes.length === 1, 'the client heard of the change')
    assert.ok(!(await toolNames(client)).includes('add'))
    await assert.rejects(client.callTool({ name: 'add', arguments: { a: 1, b: 2 } }), /Unknown tool: "add"/)
  })

  test('changes made in one go reach the client as one notification', async (t) => {
    const { app, baseUrl } = await startApp(t, { streamable: { sessions: true } })
    const { client, changes } = await connectRecording(t, `${baseUrl}/mcp`)
    app.mcp.addTool(extra('one'))
    app.mcp.addTool(extra('two'))
    app.mcp.removeTool('echo')
    await until(() => changes.length === 1, 'the batch was announced')
    // A later change is announced on its own; by the time it arrives, the batch's notifications have all arrived.
    await new Promise((resolve) => setImmediate(resolve))
    app.mcp.removeTool('one')
    await until(() => changes.length === 2, 'the later change was announced')
    assert.deepEqual(changes, ['tools', 'tools'])
    const names = await toolNames(client)
    assert.ok(names.includes('two') && !names.includes('one') && !names.includes('echo'))
  })

  test('an invalid tool or a taken name throws, and nothing changes or is announced', async (t) => {
    const { app, baseUrl } = await startApp(t, { streamable: { sessions: true } })
    const { client, changes } = await connectRecording(t, `${baseUrl}/mcp`)
    const before = await toolNames(client)
    assert.throws(() => { app.mcp.addTool(extra('add')) }, (error: unknown) => error instanceof McpConfigError && /Two tools are named "add"/.test(error.message))
    assert.throws(() => { app.mcp.addTool({ ...extra('bad name!') }) }, /Invalid tool "bad name!"/)
    assert.throws(() => { app.mcp.addTool({ ...multiply, input: Type.String() } as never) }, /"input" must be an object schema/)
    assert.equal(app.mcp.removeTool('nope'), false)
    app.mcp.addTool(extra('marker'))
    await until(() => changes.length === 1, 'the marker change was announced')
    assert.deepEqual(await toolNames(client), [...before, 'marker'])
  })
})

describe('tools added while a legacy SSE client is connected', () => {
  test('the SSE client is told, and sees the new tool', async (t) => {
    const { app, baseUrl } = await startApp(t)
    const client = await connectSse(t, `${baseUrl}/sse`, TOKEN)
    const changes: string[] = []
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => { changes.push('tools') })
    app.mcp.addTool(multiply)
    await until(() => changes.length === 1, 'the SSE client heard of the change')
    assert.ok((await toolNames(client)).includes('multiply'))
  })
})

describe('resources and prompts added to a server that started without any', () => {
  test('clients that connect afterwards see the capability and read them; connected ones are told', async (t) => {
    const { app, baseUrl } = await startApp(t, { streamable: { sessions: true } })
    const early = await connectRecording(t, `${baseUrl}/mcp`)
    assert.equal(early.client.getServerCapabilities()?.resources, undefined)

    app.mcp.addResource(defineResource({ uri: 'memo://today', name: 'today', mimeType: 'text/plain', handler: () => 'Ship the bridge' }))
    app.mcp.addPrompt(definePrompt({ name: 'plan', description: 'Plans a day', handler: () => 'Plan my day.' }))
    await until(() => early.changes.length === 2, 'the early client heard of both')
    assert.deepEqual(early.changes.sort(), ['prompts', 'resources'])

    const late = await connectRecording(t, `${baseUrl}/mcp`)
    assert.deepEqual(late.client.getServerCapabilities()?.resources, { subscribe: true, listChanged: true })
    assert.deepEqual(late.client.getServerCapabilities()?.prompts, { listChanged: true })
    assert.deepEqual((await late.client.readResource({ uri: 'memo://today' })).contents, [{ uri: 'memo://today', mimeType: 'text/plain', text: 'Ship the bridge' }])
    assert.deepEqual((await late.client.getPrompt({ name: 'plan' })).messages, [{ role: 'user', content: { type: 'text', text: 'Plan my day.' } }])

    assert.equal(app.mcp.removeResource('memo://today'), true)
    assert.equal(app.mcp.removePrompt('plan'), true)
    await until(() => late.changes.length === 2, 'the late client heard of both removals')
    assert.deepEqual((await late.client.listResources()).resources, [])
    assert.deepEqual((await late.client.listPrompts()).prompts, [])
    await assert.rejects(late.client.readResource({ uri: 'memo://today' }), /Resource not found/)
  })

  test('templates are added and removed by their URI template', async (t) => {
    const { app, baseUrl } = await startApp(t, { streamable: { sessions: true } })
    app.mcp.addResource(defineResource({ uriTemplate: 'notes://{id}', name: 'note', handler: (_uri, { id }) => `note ${id}` }))
    const { client } = await connectRecording(t, `${baseUrl}/mcp`)
    assert.deepEqual((await client.readResource({ uri: 'notes://7' })).contents, [{ uri: 'notes://7', mimeType: 'text/plain', text: 'note 7' }])
    assert.equal(app.mcp.removeResource('notes://{id}'), true)
    assert.equal(app.mcp.removeResource('notes://{id}'), false)
    assert.deepEqual((await client.listResourceTemplates()).resourceTemplates, [])
  })
})

describe('list changes in the 2026-07-28 era', () => {
  test('a subscriptions/listen stream hears of a new tool; tools/list says it may be stale at once', async (t) => {
    const { app, baseUrl } = await startApp(t)
    const client = new ModernClient({ name: 'runtime-modern', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } })
    await client.connect(new ModernHttpTransport(new URL(`${baseUrl}/mcp`), { requestInit: { headers: { authorization: `Bearer ${TOKEN}` } } }))
    t.after(async () => { await client.close() })
    const changes: string[] = []
    client.setNotificationHandler('notifications/tools/list_changed', () => { changes.push('tools') })
    const subscription = await client.listen({ toolsListChanged: true })
    t.after(async () => { await subscription.close() })
    app.mcp.addTool(multiply)
    await until(() => changes.length === 1, 'the listen stream carried the change')
    assert.ok((await client.listTools()).tools.some((tool: { name: string }) => tool.name === 'multiply'))

    const raw = await fetch(`${baseUrl}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${TOKEN}`, 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} } } })
    })
    const { result } = await raw.json() as { result: { ttlMs: number, cacheScope: string } }
    assert.equal(result.ttlMs, 0)
    assert.equal(result.cacheScope, 'public')
  })
})
