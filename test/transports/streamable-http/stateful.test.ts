import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { ResourceUpdatedNotificationSchema, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js'
import { TOKEN } from '../../helpers/app.js'
import { request } from '../../helpers/raw-http.js'
import { startStatefulApp } from '../../helpers/stateful-http.js'
import { connectStateful } from '../../helpers/stateful-sdk.js'
import { gates } from '../../helpers/stateful-tools.js'

describe('SDK client over stateful Streamable HTTP', () => {
  test('initialize gives the client a session id that its later requests carry', async (t) => {
    const { app, mcpUrl } = await startStatefulApp(t)
    const { client, transport } = await connectStateful(t, mcpUrl, TOKEN)
    assert.match(transport.sessionId ?? '', /^[\x21-\x7e]+$/)
    const result = await client.callTool({ name: 'whoami', arguments: {} })
    assert.equal((result.structuredContent as { sessionId: string }).sessionId, transport.sessionId)
    assert.equal(app.mcp.status().sessions.streamableHttp, 1)
  })

  test('lists and calls tools within the session', async (t) => {
    const { mcpUrl } = await startStatefulApp(t)
    const { client } = await connectStateful(t, mcpUrl, TOKEN)
    const { tools } = await client.listTools()
    assert.ok(tools.some((tool) => tool.name === 'phased'))
    const result = await client.callTool({ name: 'add', arguments: { a: 40, b: 2 } })
    assert.deepEqual(result.structuredContent, { sum: 42 })
  })

  test('progress notifications reach the client before the result', async (t) => {
    const { mcpUrl } = await startStatefulApp(t)
    const { client } = await connectStateful(t, mcpUrl, TOKEN)
    const seen: number[] = []
    const result = await client.callTool({ name: 'countdown', arguments: { steps: 3 } }, undefined, {
      onprogress: (progress) => { seen.push(progress.progress) }
    })
    assert.deepEqual(seen, [1, 2, 3])
    assert.deepEqual(result.content, [{ type: 'text', text: 'counted 3' }])
  })

  test('a tool that elicits gets the answer the client gave', async (t) => {
    const { mcpUrl } = await startStatefulApp(t)
    const { client, elicitations } = await connectStateful(t, mcpUrl, TOKEN, { action: 'accept', content: { name: 'Grace' } })
    const result = await client.callTool({ name: 'ask_name', arguments: {} })
    assert.deepEqual(result.content, [{ type: 'text', text: 'hello Grace' }])
    assert.deepEqual(elicitations, ['What is your name?'])
  })

  test('a subscribed resource\'s update reaches the client on its GET stream', async (t) => {
    const { app, mcpUrl } = await startStatefulApp(t)
    const { client } = await connectStateful(t, mcpUrl, TOKEN)
    const updated = new Promise<string>((resolve) => {
      client.setNotificationHandler(ResourceUpdatedNotificationSchema, (notification) => { resolve(notification.params.uri) })
    })
    await client.subscribeResource({ uri: 'memo://today' })
    assert.equal(await app.mcp.notifyResourceUpdated('memo://today'), 1)
    assert.equal(await app.mcp.notifyResourceUpdated('memo://elsewhere'), 0)
    assert.equal(await updated, 'memo://today')
  })

  test('a list change reaches every connected session', async (t) => {
    const { app, mcpUrl } = await startStatefulApp(t)
    const clients = [await connectStateful(t, mcpUrl, TOKEN), await connectStateful(t, mcpUrl, TOKEN)]
    const told = clients.map(async ({ client }) => await new Promise<void>((resolve) => {
      client.setNotificationHandler(ToolListChangedNotificationSchema, () => { resolve() })
    }))
    assert.equal(await app.mcp.notifyListChanged('tools'), 2)
    await Promise.all(told)
  })

  test('cancelling a call with an AbortSignal fires the tool\'s ctx.signal', async (t) => {
    const { mcpUrl } = await startStatefulApp(t)
    const { client } = await connectStateful(t, mcpUrl, TOKEN)
    const controller = new AbortController()
    const call = client.callTool({ name: 'hold', arguments: { key: 'sdk-cancel' } }, undefined, { signal: controller.signal })
    await gates.wait('started:sdk-cancel')
    controller.abort('changed my mind')
    await assert.rejects(call)
    assert.match(await gates.wait('aborted:sdk-cancel'), /Cancelled by the client: changed my mind/)
  })

  test('the session count appears in /health', async (t) => {
    const { baseUrl, mcpUrl } = await startStatefulApp(t)
    await connectStateful(t, mcpUrl, TOKEN)
    await connectStateful(t, mcpUrl, TOKEN)
    const health = await request(`${baseUrl}/health`)
    assert.deepEqual(health.json.sessions, { sse: 0, streamableHttp: 2, listen: 0 })
  })

  test('terminating the session ends it on the server', async (t) => {
    const { app, mcpUrl } = await startStatefulApp(t)
    const { client, transport } = await connectStateful(t, mcpUrl, TOKEN)
    await transport.terminateSession()
    assert.equal(app.mcp.status().sessions.streamableHttp, 0)
    await assert.rejects(client.listTools(), /Streamable HTTP error/)
  })
})
