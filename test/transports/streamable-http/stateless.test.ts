import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { assertInvalidAddArguments } from '../../helpers/tool-assertions.js'
import { startApp, TOKEN, AUTH_HEADER } from '../../helpers/app.js'
import { connectHttp } from '../../helpers/clients.js'
import { post, request, rpc, INITIALIZE_PARAMS } from '../../helpers/raw-http.js'
import { SseReader } from '../../helpers/sse-reader.js'

for (const prefix of ['', '/api/v1']) {
  describe(`SDK client over Streamable HTTP${prefix === '' ? '' : ` under prefix ${prefix}`}`, () => {
    test('initializes and lists the tools with their JSON Schemas', async (t) => {
      const { baseUrl } = await startApp(t, {}, prefix)
      const client = await connectHttp(t, `${baseUrl}/mcp`, TOKEN)
      assert.equal(client.getServerVersion()?.name, 'fastify-mcp-host')
      const { tools } = await client.listTools()
      const add = tools.find((tool) => tool.name === 'add')
      assert.deepEqual(add?.inputSchema, {
        type: 'object', required: ['a', 'b'], properties: { a: { type: 'number' }, b: { type: 'number' } }
      })
      assert.deepEqual(add?.outputSchema?.required, ['sum'])
    })

    test('calls a tool and gets structured content with its JSON text', async (t) => {
      const { baseUrl } = await startApp(t, {}, prefix)
      const client = await connectHttp(t, `${baseUrl}/mcp`, TOKEN)
      const result = await client.callTool({ name: 'add', arguments: { a: 2, b: 40 } })
      assert.deepEqual(result.structuredContent, { sum: 42 })
      assert.deepEqual(result.content, [{ type: 'text', text: '{"sum":42}' }])
      assert.equal(result.isError, undefined)
    })

    test('invalid arguments come back as a tool error naming each failing path', async (t) => {
      const { baseUrl } = await startApp(t, {}, prefix)
      const client = await connectHttp(t, `${baseUrl}/mcp`, TOKEN)
      assertInvalidAddArguments(await client.callTool({ name: 'add', arguments: { a: 'two' } }))
    })

    test('an unknown tool is a JSON-RPC error -32602 naming the tool', async (t) => {
      const { baseUrl } = await startApp(t, {}, prefix)
      const client = await connectHttp(t, `${baseUrl}/mcp`, TOKEN)
      await assert.rejects(client.callTool({ name: 'nope', arguments: {} }), (error: { code: number, message: string }) => {
        assert.equal(error.code, -32602)
        assert.match(error.message, /Unknown tool: "nope"/)
        return true
      })
    })

    test('a throwing tool is a tool error with its message and no stack', async (t) => {
      const { baseUrl } = await startApp(t, {}, prefix)
      const client = await connectHttp(t, `${baseUrl}/mcp`, TOKEN)
      const result = await client.callTool({ name: 'fail', arguments: {} })
      assert.equal(result.isError, true)
      assert.deepEqual(result.content, [{ type: 'text', text: 'the database is unreachable' }])
    })

    test('progress notifications reach the client before the result', async (t) => {
      const { baseUrl } = await startApp(t, {}, prefix)
      const client = await connectHttp(t, `${baseUrl}/mcp`, TOKEN)
      const seen: number[] = []
      const result = await client.callTool({ name: 'countdown', arguments: { steps: 3 } }, undefined, {
        onprogress: (progress) => { seen.push(progress.progress) }
      })
      assert.deepEqual(seen, [1, 2, 3])
      assert.deepEqual(result.content, [{ type: 'text', text: 'counted 3' }])
    })
  })
}

describe('Streamable HTTP on the wire', () => {
  test('a request is answered with application/json carrying the JSON-RPC response', async (t) => {
    const { baseUrl } = await startApp(t)
    const response = await post(`${baseUrl}/mcp`, rpc('initialize', INITIALIZE_PARAMS, 7), AUTH_HEADER)
    assert.equal(response.status, 200)
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/)
    assert.equal(response.json.id, 7)
    assert.equal(response.json.result.protocolVersion, '2025-11-25')
    assert.equal(response.headers.get('mcp-session-id'), null)
  })

  test('initialize answers our newest version when the client asks for one we do not speak', async (t) => {
    const { baseUrl } = await startApp(t)
    const response = await post(`${baseUrl}/mcp`, rpc('initialize', { ...INITIALIZE_PARAMS, protocolVersion: '1999-01-01' }), AUTH_HEADER)
    assert.equal(response.json.result.protocolVersion, '2025-11-25')
  })

  test('notifications and responses get 202 with no body', async (t) => {
    const { baseUrl } = await startApp(t)
    const notification = await post(`${baseUrl}/mcp`, { jsonrpc: '2.0', method: 'notifications/initialized' }, AUTH_HEADER)
    assert.equal(notification.status, 202)
    assert.equal(notification.text, '')
    const response = await post(`${baseUrl}/mcp`, { jsonrpc: '2.0', id: 3, result: {} }, AUTH_HEADER)
    assert.equal(response.status, 202)
    assert.equal(response.text, '')
  })

  test('GET and DELETE get 405 with Allow: POST', async (t) => {
    const { baseUrl } = await startApp(t)
    for (const method of ['GET', 'DELETE']) {
      const response = await request(`${baseUrl}/mcp`, { method, headers: { ...AUTH_HEADER, accept: 'text/event-stream' } })
      assert.equal(response.status, 405, method)
      assert.equal(response.headers.get('allow'), 'POST')
      assert.equal(response.json.error.code, -32000)
      assert.match(response.json.error.message, /Method Not Allowed/)
    }
  })

  test('an Accept header without both JSON and event-stream gets 406', async (t) => {
    const { baseUrl } = await startApp(t)
    for (const accept of ['application/json', 'text/event-stream', 'text/html']) {
      const response = await post(`${baseUrl}/mcp`, rpc('ping'), { ...AUTH_HEADER, accept })
      assert.equal(response.status, 406, accept)
      assert.match(response.json.error.message, /must list both application\/json and text\/event-stream/)
    }
    const wildcard = await post(`${baseUrl}/mcp`, rpc('ping'), { ...AUTH_HEADER, accept: '*/*' })
    assert.equal(wildcard.status, 200)
  })

  test('each request is judged by its own Accept, Content-Type and MCP-Protocol-Version, good and bad in turn', async (t) => {
    const { baseUrl } = await startApp(t)
    const good = { accept: 'application/json, text/event-stream', 'content-type': 'application/json', 'mcp-protocol-version': '2025-06-18' }
    const sequence: Array<[Record<string, string>, number]> = [
      [good, 200], [{ ...good, accept: 'text/html' }, 406], [{ ...good, accept: 'text/html' }, 406], [good, 200],
      [{ ...good, 'content-type': 'text/plain' }, 415], [good, 200], [{ ...good, 'mcp-protocol-version': '1999-01-01' }, 400],
      [{ ...good, 'mcp-protocol-version': '1999-01-01' }, 400], [{ ...good, 'mcp-protocol-version': '2025-11-25' }, 200], [good, 200]
    ]
    const statuses = []
    for (const [headers] of sequence) {
      const body = JSON.stringify(rpc('ping'))
      statuses.push((await request(`${baseUrl}/mcp`, { method: 'POST', headers: { ...AUTH_HEADER, ...headers }, body })).status)
    }
    assert.deepEqual(statuses, sequence.map(([, status]) => status))
  })

  test('a body that is not application/json gets 415', async (t) => {
    const { baseUrl } = await startApp(t)
    for (const contentType of ['text/plain', 'application/xml']) {
      const response = await post(`${baseUrl}/mcp`, JSON.stringify(rpc('ping')), { ...AUTH_HEADER, 'content-type': contentType })
      assert.equal(response.status, 415, contentType)
      assert.match(response.json.error.message, /Content-Type: application\/json/)
    }
  })

  test('unparseable JSON gets 400 with JSON-RPC error -32700', async (t) => {
    const { baseUrl } = await startApp(t)
    const response = await post(`${baseUrl}/mcp`, '{"jsonrpc": "2.0", "id": 1, "method": ', AUTH_HEADER)
    assert.equal(response.status, 400)
    assert.deepEqual(response.json, { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error: the request body is not valid JSON' } })
  })

  test('a JSON value that is not a JSON-RPC message gets 400 with -32600', async (t) => {
    const { baseUrl } = await startApp(t)
    for (const body of ['[]', '42', '{"jsonrpc":"1.0","id":1,"method":"ping"}', '{"jsonrpc":"2.0","id":{},"method":"ping"}']) {
      const response = await post(`${baseUrl}/mcp`, body, AUTH_HEADER)
      assert.equal(response.status, 400, body)
      assert.equal(response.json.error.code, -32600, body)
    }
  })

  test('an unsupported MCP-Protocol-Version gets 400 naming the supported versions', async (t) => {
    const { baseUrl } = await startApp(t)
    const response = await post(`${baseUrl}/mcp`, rpc('ping'), { ...AUTH_HEADER, 'mcp-protocol-version': '2099-01-01' })
    assert.equal(response.status, 400)
    assert.match(response.json.error.message, /unsupported MCP-Protocol-Version "2099-01-01"/)
    assert.match(response.json.error.message, /2025-11-25, 2025-06-18, 2025-03-26, 2024-11-05/)
    const supported = await post(`${baseUrl}/mcp`, rpc('ping'), { ...AUTH_HEADER, 'mcp-protocol-version': '2025-06-18' })
    assert.equal(supported.status, 200)
  })

  test('a huge garbage MCP-Protocol-Version is refused without being echoed back in full', async (t) => {
    const { baseUrl } = await startApp(t)
    const garbage = 'x'.repeat(8000)
    const response = await post(`${baseUrl}/mcp`, rpc('ping'), { ...AUTH_HEADER, 'mcp-protocol-version': garbage })
    assert.equal(response.status, 400)
    assert.match(response.json.error.message, /unsupported MCP-Protocol-Version "x{64}…"/)
    assert.ok(response.text.length < 500)
  })

  test('an unknown method is a JSON-RPC error -32601', async (t) => {
    const { baseUrl } = await startApp(t)
    const response = await post(`${baseUrl}/mcp`, rpc('tools/destroy', {}, 'abc'), AUTH_HEADER)
    assert.equal(response.status, 200)
    assert.equal(response.json.id, 'abc')
    assert.equal(response.json.error.code, -32601)
  })

  test('progress turns the answer into an event stream that ends with the result', async (t) => {
    const { baseUrl } = await startApp(t)
    const response = await fetch(`${baseUrl}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...AUTH_HEADER },
      body: JSON.stringify(rpc('tools/call', { name: 'countdown', arguments: { steps: 2 }, _meta: { progressToken: 'p1' } }, 9))
    })
    assert.equal(response.headers.get('content-type'), 'text/event-stream')
    assert.equal(response.headers.get('cache-control'), 'no-cache, no-transform')
    const reader = new SseReader(response)
    const first = await reader.nextEvent()
    assert.equal(first?.event, 'message')
    assert.deepEqual(JSON.parse(first?.data ?? ''), {
      jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 'p1', progress: 1, total: 2, message: 'step 1' }
    })
    assert.equal(JSON.parse((await reader.nextEvent())?.data ?? '').params.progress, 2)
    const last = JSON.parse((await reader.nextEvent())?.data ?? '')
    assert.equal(last.id, 9)
    assert.deepEqual(last.result.content, [{ type: 'text', text: 'counted 2' }])
    assert.equal(await reader.nextEvent(), undefined)
  })

  test('concurrent callers each get their own answer, even with the same request id', async (t) => {
    const { baseUrl } = await startApp(t)
    const calls = Array.from({ length: 40 }, async (_, i) => {
      const response = await post(`${baseUrl}/mcp`, rpc('tools/call', { name: 'add', arguments: { a: i, b: 1000 } }, 1), AUTH_HEADER)
      return response.json.result.structuredContent.sum as number
    })
    assert.deepEqual(await Promise.all(calls), Array.from({ length: 40 }, (_, i) => i + 1000))
  })

  test('the server keeps serving after every bad request', async (t) => {
    const { baseUrl } = await startApp(t)
    await post(`${baseUrl}/mcp`, '{bad', AUTH_HEADER)
    await post(`${baseUrl}/mcp`, rpc('ping'), { ...AUTH_HEADER, accept: 'text/html' })
    await post(`${baseUrl}/mcp`, '[1,2]', AUTH_HEADER)
    const response = await post(`${baseUrl}/mcp`, rpc('ping', undefined, 5), AUTH_HEADER)
    assert.deepEqual(response.json, { jsonrpc: '2.0', id: 5, result: {} })
  })
})
