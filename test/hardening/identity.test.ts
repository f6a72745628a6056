import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { startApp } from '../helpers/app.js'
import { MCP_HEADERS, rpc } from '../helpers/raw-http.js'
import { openSse } from '../helpers/sse-client.js'
import { startStatefulApp, initializeSession, getStream } from '../helpers/stateful-http.js'
import { send } from './support.js'
import type { McpPluginOptions } from '../../plugin/index.js'

const OLD = 'alice-old-token'
const NEW = 'alice-new-token'
const BOB = 'bob-token'
const ROTATING: McpPluginOptions['auth'] = { tokens: [{ token: OLD, id: 'alice' }, { token: NEW, id: 'alice' }, { token: BOB, id: 'bob' }] }
const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` })
const WHOAMI = rpc('tools/call', { name: 'whoami', arguments: {} }, 'who')

describe('sessions belong to identities, not to token bytes', () => {
  test('over SSE, the rotated token of the same identity posts to the stream the old token opened', async (t) => {
    const { baseUrl } = await startApp(t, { auth: ROTATING })
    const session = await openSse(t, baseUrl, bearer(OLD))
    assert.equal((await session.send(WHOAMI, bearer(NEW))).status, 202)
    const answer = await session.nextMessage()
    assert.equal(answer.result.structuredContent.identity, 'alice')
    assert.equal(answer.result.structuredContent.sessionId, session.sessionId)
  })

  test('over SSE, another identity\'s token gets 404 for the same stream', async (t) => {
    const { baseUrl } = await startApp(t, { auth: ROTATING })
    const session = await openSse(t, baseUrl, bearer(OLD))
    const intruder = await session.send(WHOAMI, bearer(BOB))
    assert.equal(intruder.status, 404)
    assert.match(intruder.json.error.message, /Session not found/)
  })

  test('over stateful HTTP, the rotated token keeps the session: POST, GET stream and DELETE', async (t) => {
    const { mcpUrl } = await startStatefulApp(t, {}, { auth: ROTATING })
    const session = await initializeSession(mcpUrl, bearer(OLD))
    const answer = await session.post(WHOAMI, bearer(NEW))
    assert.equal(answer.status, 200)
    assert.equal(answer.json.result.structuredContent.identity, 'alice')
    const stream = await getStream(t, mcpUrl, session.id, undefined, bearer(NEW))
    assert.equal(stream.status, 200)
    stream.disconnect()
    const ended = await send(mcpUrl, { method: 'DELETE', path: '/mcp', headers: { ...bearer(NEW), 'mcp-session-id': session.id } })
    assert.equal(ended.status, 204)
  })

  test('over stateful HTTP, another identity\'s token gets 404 on POST, GET and DELETE', async (t) => {
    const { mcpUrl } = await startStatefulApp(t, {}, { auth: ROTATING })
    const session = await initializeSession(mcpUrl, bearer(OLD))
    assert.equal((await session.post(WHOAMI, bearer(BOB))).status, 404)
    assert.equal((await getStream(t, mcpUrl, session.id, undefined, bearer(BOB))).status, 404)
    const deleted = await send(mcpUrl, { method: 'DELETE', path: '/mcp', headers: { ...bearer(BOB), 'mcp-session-id': session.id } })
    assert.equal(deleted.status, 404)
    assert.equal((await session.post(WHOAMI, bearer(OLD))).status, 200, 'the owner still has its session')
  })

  test('with a verify function, two different tokens that map to one id share that identity\'s sessions', async (t) => {
    const identities: Record<string, string> = { 'key-1': 'carol', 'key-2': 'carol', 'key-3': 'dave' }
    const { baseUrl } = await startApp(t, { auth: { verify: (token) => identities[token] === undefined ? null : { id: identities[token] } } })
    const session = await openSse(t, baseUrl, bearer('key-1'))
    assert.equal((await session.send(rpc('ping', undefined, 'p'), bearer('key-2'))).status, 202)
    assert.deepEqual(await session.nextMessage(), { jsonrpc: '2.0', id: 'p', result: {} })
    assert.equal((await session.send(rpc('ping'), bearer('key-3'))).status, 404)
  })
})

describe('2026-07-28 input rounds belong to the identity that started them', () => {
  test('over HTTP, bob cannot answer alice\'s elicitation with her requestState; alice can', async (t) => {
    const { baseUrl } = await startApp(t, { auth: ROTATING })
    const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': { elicitation: {} } }
    const call = async (token: string, params: Record<string, unknown> = {}): Promise<any> => (await send(baseUrl, {
      path: '/mcp',
      headers: { ...MCP_HEADERS, ...bearer(token), 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'greet' },
      body: rpc('tools/call', { name: 'greet', ...params, _meta: meta }, 'greet')
    })).json
    const first = (await call(OLD)).result
    assert.equal(first.resultType, 'input_required')
    const answer = { requestState: first.requestState, inputResponses: { user_name: { action: 'accept', content: { name: 'Bob' } } } }
    const stolen = await call(BOB, answer)
    assert.equal(stolen.error?.code, -32602)
    assert.match(stolen.error.message, /issued to another caller/)
    const own = await call(NEW, { ...answer, inputResponses: { user_name: { action: 'accept', content: { name: 'Alice' } } } })
    assert.deepEqual(own.result.content, [{ type: 'text', text: 'Hello, Alice!' }], 'the rotated token of the same identity goes on')
  })
})
