import { test, describe, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { Client as ModernClient, StreamableHTTPClientTransport as ModernHttpTransport } from '@modelcontextprotocol/client'
import { startApp, TOKEN, AUTH_HEADER } from '../helpers/app.js'
import { connectHttp } from '../helpers/clients.js'
import { post, rpc } from '../helpers/raw-http.js'
import { slowCalls } from '../helpers/fixture-tools.js'
import { fixturePrompts, fixtureResources } from '../helpers/fixture-content.js'

type Negotiation = 'auto' | 'legacy' | { pin: '2026-07-28' }

async function connectModern (t: TestContext, url: string, mode: Negotiation = { pin: '2026-07-28' }): Promise<ModernClient> {
  const client = new ModernClient({ name: 'era-test', version: '1.0.0' }, {
    versionNegotiation: { mode },
    capabilities: { elicitation: { form: {} } }
  })
  client.setRequestHandler('elicitation/create', async () => ({ action: 'accept', content: { name: 'Ada' } }))
  await client.connect(new ModernHttpTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${TOKEN}` } } }))
  t.after(async () => { await client.close() })
  return client
}

const META = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {}
}

function modernHeaders (method: string, name?: string): Record<string, string> {
  const headers: Record<string, string> = { ...AUTH_HEADER, 'mcp-protocol-version': '2026-07-28', 'mcp-method': method }
  if (name !== undefined) headers['mcp-name'] = name
  return headers
}

for (const sessions of [false, true]) {
  describe(`both eras on POST /mcp (${sessions ? 'stateful' : 'stateless'} mode for the 2025 era)`, () => {
    const start = async (t: TestContext): Promise<string> =>
      `${(await startApp(t, { resources: fixtureResources, prompts: fixturePrompts, streamable: { sessions } })).baseUrl}/mcp`

    test('the 2.x client in auto mode lands on 2026-07-28', async (t) => {
      const client = await connectModern(t, await start(t), 'auto')
      assert.equal(client.getProtocolEra(), 'modern')
      assert.equal(client.getNegotiatedProtocolVersion(), '2026-07-28')
    })

    test('the 2.x client forced to the legacy era and the 1.x client both still work', async (t) => {
      const url = await start(t)
      const legacy = await connectModern(t, url, 'legacy')
      assert.equal(legacy.getProtocolEra(), 'legacy')
      assert.deepEqual((await legacy.callTool({ name: 'add', arguments: { a: 1, b: 2 } })).structuredContent, { sum: 3 })
      const old = await connectHttp(t, url, TOKEN)
      assert.deepEqual((await old.callTool({ name: 'add', arguments: { a: 3, b: 4 } })).structuredContent, { sum: 7 })
    })
  })
}

describe('the 2026-07-28 era over Streamable HTTP with the 2.x client', () => {
  const start = async (t: TestContext): Promise<{ url: string, app: Awaited<ReturnType<typeof startApp>>['app'] }> => {
    const { app, baseUrl } = await startApp(t, { resources: fixtureResources, prompts: fixturePrompts })
    return { app, url: `${baseUrl}/mcp` }
  }

  test('every tool result shape: structured, text, invalid arguments, thrown error, unknown tool', async (t) => {
    const client = await connectModern(t, (await start(t)).url)
    assert.deepEqual((await client.callTool({ name: 'add', arguments: { a: 2, b: 40 } })).structuredContent, { sum: 42 })
    assert.deepEqual((await client.callTool({ name: 'echo', arguments: { text: 'ab', times: 2 } })).content, [{ type: 'text', text: 'abab' }])
    const invalid = await client.callTool({ name: 'add', arguments: { a: 'x' } })
    assert.equal(invalid.isError, true)
    assert.match((invalid.content as Array<{ text: string }>)[0].text, /\/a must be number/)
    const thrown = await client.callTool({ name: 'fail', arguments: {} })
    assert.deepEqual(thrown.content, [{ type: 'text', text: 'the database is unreachable' }])
    await assert.rejects(client.callTool({ name: 'nope', arguments: {} }), /Unknown tool/)
  })

  test('resources, templates, prompts and completions', async (t) => {
    const client = await connectModern(t, (await start(t)).url)
    assert.deepEqual((await client.listResources()).resources.map((r) => r.uri), ['memo://readme', 'memo://logo'])
    assert.deepEqual((await client.readResource({ uri: 'users://bob/profile' })).contents, [{ uri: 'users://bob/profile', mimeType: 'application/json', text: '{"id":"bob"}' }])
    const prompt = await client.getPrompt({ name: 'review', arguments: { language: 'rust' } })
    assert.deepEqual(prompt.messages, [{ role: 'user', content: { type: 'text', text: 'Review this rust code.' } }])
    const completion = await client.complete({ ref: { type: 'ref/prompt', name: 'review' }, argument: { name: 'language', value: 'py' } })
    assert.deepEqual(completion.completion.values, ['python'])
  })

  test('an elicitation completes through an input-required round trip', async (t) => {
    const client = await connectModern(t, (await start(t)).url)
    assert.deepEqual((await client.callTool({ name: 'greet', arguments: {} })).content, [{ type: 'text', text: 'Hello, Ada!' }])
  })

  test('progress reaches the client on the answer stream', async (t) => {
    const client = await connectModern(t, (await start(t)).url)
    const seen: number[] = []
    await client.callTool({ name: 'countdown', arguments: { steps: 3 } }, { onprogress: (p: { progress: number }) => { seen.push(p.progress) } })
    assert.deepEqual(seen, [1, 2, 3])
  })

  test('closing the request fires the handler\'s signal', async (t) => {
    const client = await connectModern(t, (await start(t)).url)
    const before = slowCalls.length
    const controller = new AbortController()
    const call = client.callTool({ name: 'slow', arguments: { ms: 10_000 } }, { signal: controller.signal })
    await new Promise((resolve) => setTimeout(resolve, 100))
    controller.abort()
    await assert.rejects(call)
    const deadline = Date.now() + 2000
    while (slowCalls.length === before && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
    assert.equal(slowCalls.at(-1)?.aborted, true)
  })

  test('subscriptions/listen delivers list changes the client asked for', async (t) => {
    const { app, url } = await start(t)
    const client = await connectModern(t, url)
    const received: string[] = []
    client.setNotificationHandler('notifications/tools/list_changed', () => { received.push('tools') })
    client.setNotificationHandler('notifications/prompts/list_changed', () => { received.push('prompts') })
    const subscription = await client.listen({ toolsListChanged: true })
    assert.deepEqual(subscription.honoredFilter, { toolsListChanged: true })
    app.mcp.notifyListChanged('prompts')
    app.mcp.notifyListChanged('tools')
    const deadline = Date.now() + 2000
    while (received.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
    assert.deepEqual(received, ['tools'])
    await subscription.close()
  })
})

describe('the 2026-07-28 wire rules over raw HTTP', () => {
  const call = rpc('tools/call', { name: 'add', arguments: { a: 1, b: 2 }, _meta: META }, 11)

  test('a well-formed request gets a complete result with server info', async (t) => {
    const { baseUrl } = await startApp(t)
    const response = await post(`${baseUrl}/mcp`, call, modernHeaders('tools/call', 'add'))
    assert.equal(response.status, 200)
    assert.equal(response.json.result.resultType, 'complete')
    assert.equal(response.json.result._meta['io.modelcontextprotocol/serverInfo'].name, 'fastify-mcp-host')
    assert.equal(response.headers.get('mcp-session-id'), null)
  })

  const refusals: Array<[string, unknown, Record<string, string>, number, number, RegExp]> = [
    ['a missing MCP-Protocol-Version header', call, { ...AUTH_HEADER, 'mcp-method': 'tools/call', 'mcp-name': 'add' }, 400, -32020, /MCP-Protocol-Version header is required/],
    ['a missing _meta', rpc('tools/list', {}, 12), modernHeaders('tools/list'), 400, -32602, /needs params\._meta/],
    ['missing client capabilities', rpc('tools/list', { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' } }, 13), modernHeaders('tools/list'), 400, -32602, /clientCapabilities/],
    ['a header that differs from _meta', rpc('tools/list', { _meta: { ...META, 'io.modelcontextprotocol/protocolVersion': '2099-01-01' } }, 14), modernHeaders('tools/list'), 400, -32020, /differs from _meta/],
    ['an Mcp-Method that differs from the body', call, modernHeaders('tools/list', 'add'), 400, -32020, /Mcp-Method/],
    ['a method name in the wrong case', call, modernHeaders('TOOLS/CALL', 'add'), 400, -32020, /Mcp-Method/],
    ['an Mcp-Name that differs from the tool', call, modernHeaders('tools/call', 'echo'), 400, -32020, /Mcp-Name/],
    ['a missing Mcp-Name', call, modernHeaders('tools/call'), 400, -32020, /Mcp-Name/],
    ['an unknown method', rpc('tools/destroy', { _meta: META }, 15), modernHeaders('tools/destroy'), 404, -32601, /Method not found/],
    ['a method the revision removed', rpc('ping', { _meta: META }, 16), modernHeaders('ping'), 404, -32601, /removed in 2026-07-28/]
  ]
  for (const [label, body, headers, status, code, message] of refusals) {
    test(`${label} gets ${status} with error ${code}, echoing the request id`, async (t) => {
      const { baseUrl } = await startApp(t)
      const response = await post(`${baseUrl}/mcp`, body, headers)
      assert.equal(response.status, status)
      assert.equal(response.json.error.code, code)
      assert.match(response.json.error.message, message)
      assert.equal(response.json.id, (body as { id: number }).id)
    })
  }

  test('an unsupported version in both header and _meta is 400 -32022 listing what we speak', async (t) => {
    const { baseUrl } = await startApp(t)
    const body = rpc('tools/list', { _meta: { ...META, 'io.modelcontextprotocol/protocolVersion': 'v999.0.0' } }, 17)
    const response = await post(`${baseUrl}/mcp`, body, { ...modernHeaders('tools/list'), 'mcp-protocol-version': 'v999.0.0' })
    assert.equal(response.status, 400)
    assert.equal(response.json.error.code, -32022)
    assert.deepEqual(response.json.error.data, { supported: ['2026-07-28'], requested: 'v999.0.0' })
  })

  test('header values are trimmed and a base64-encoded Mcp-Name is decoded', async (t) => {
    const { baseUrl } = await startApp(t)
    const spaced = await post(`${baseUrl}/mcp`, call, { ...modernHeaders('  tools/call  '), 'mcp-name': '  add ' })
    assert.equal(spaced.status, 200)
    const encoded = await post(`${baseUrl}/mcp`, call, modernHeaders('tools/call', `=?base64?${Buffer.from('add').toString('base64')}?=`))
    assert.equal(encoded.status, 200)
    const broken = await post(`${baseUrl}/mcp`, call, modernHeaders('tools/call', '=?base64?YWR!!?='))
    assert.equal(broken.status, 400)
  })

  test('an argument marked x-mcp-header must be repeated in its Mcp-Param header', async (t) => {
    const { baseUrl } = await startApp(t)
    const body = rpc('tools/call', { name: 'route', arguments: { region: 'eu-west' }, _meta: META }, 21)
    const headers = modernHeaders('tools/call', 'route')
    const encoded = `=?base64?${Buffer.from('eu-west').toString('base64')}?=`
    assert.equal((await post(`${baseUrl}/mcp`, body, { ...headers, 'mcp-param-region': 'eu-west' })).json.result.content[0].text, 'routed to eu-west')
    assert.equal((await post(`${baseUrl}/mcp`, body, { ...headers, 'mcp-param-region': encoded })).status, 200)
    for (const value of [undefined, 'us-east', '=?base64?ZXU!!?=']) {
      const response = await post(`${baseUrl}/mcp`, body, value === undefined ? headers : { ...headers, 'mcp-param-region': value })
      assert.equal(response.status, 400, String(value))
      assert.equal(response.json.error.code, -32020)
      assert.match(response.json.error.message, /mcp-param-region/)
    }
  })

  test('an error from a handler travels with 200, and the server keeps serving', async (t) => {
    const { baseUrl } = await startApp(t)
    const response = await post(`${baseUrl}/mcp`, rpc('tools/call', { name: 'nope', _meta: META }, 18), modernHeaders('tools/call', 'nope'))
    assert.equal(response.status, 200)
    assert.equal(response.json.error.code, -32602)
    const next = await post(`${baseUrl}/mcp`, rpc('server/discover', { _meta: META }, 19), modernHeaders('server/discover'))
    assert.deepEqual(next.json.result.supportedVersions, ['2026-07-28'])
  })

  test('a legacy server/discover probe without _meta gets a JSON-RPC error, so clients fall back to initialize', async (t) => {
    const { baseUrl } = await startApp(t)
    const response = await post(`${baseUrl}/mcp`, rpc('server/discover', {}, 'probe'), AUTH_HEADER)
    assert.ok(response.status < 500)
    assert.equal(response.json.error.code, -32601)
  })
})
