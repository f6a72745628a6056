import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { Type } from 'typebox'
import { createDispatcher, defineTool } from '../../plugin/core.js'
import { RequestStateSigner } from '../../plugin/protocol/modern/request-state.js'
import type { CallEnv } from '../../plugin/protocol/call-env.js'
import { silentLogger } from '../../plugin/protocol/logger.js'
import { fixtureTools } from '../helpers/fixture-tools.js'
import { fixturePrompts, fixtureResources } from '../helpers/fixture-content.js'

const dispatcher = createDispatcher({ info: { name: 'modern-test', version: '9.9.9' }, tools: fixtureTools, resources: fixtureResources, prompts: fixturePrompts })
const env: CallEnv = { transport: 'streamable-http', auth: undefined, session: undefined, log: silentLogger }

function meta (extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    'io.modelcontextprotocol/protocolVersion': '2026-07-28',
    'io.modelcontextprotocol/clientCapabilities': { elicitation: {} },
    ...extra
  }
}

async function send (method: string, params: Record<string, unknown> = {}, metaExtra?: Record<string, unknown>): Promise<any> {
  return await dispatcher.handleRequest({ jsonrpc: '2.0', id: 1, method, params: { ...params, _meta: meta(metaExtra) } }, env)
}

describe('2026-07-28 requests through the dispatcher', () => {
  test('server/discover advertises the modern version, capabilities and server info', async () => {
    const { result } = await send('server/discover')
    assert.deepEqual(result.supportedVersions, ['2026-07-28'])
    assert.deepEqual(result.capabilities.tools, { listChanged: true })
    assert.ok(result.capabilities.prompts !== undefined && result.capabilities.resources !== undefined)
    assert.equal(result.resultType, 'complete')
    assert.deepEqual(result._meta['io.modelcontextprotocol/serverInfo'], { name: 'modern-test', version: '9.9.9' })
    assert.equal(typeof result.ttlMs, 'number')
    assert.ok(['public', 'private'].includes(result.cacheScope))
  })

  test('results carry resultType, and lists and reads carry cache hints', async () => {
    for (const method of ['tools/list', 'prompts/list', 'resources/list', 'resources/templates/list']) {
      const { result } = await send(method)
      assert.equal(result.resultType, 'complete', method)
      assert.ok(Number.isInteger(result.ttlMs) && result.ttlMs >= 0, method)
    }
    const read = await send('resources/read', { uri: 'users://alice/profile' })
    assert.deepEqual(read.result.contents, [{ uri: 'users://alice/profile', mimeType: 'application/json', text: '{"id":"alice"}' }])
    assert.equal(read.result.cacheScope, 'private')
    const call = await send('tools/call', { name: 'add', arguments: { a: 1, b: 2 } })
    assert.deepEqual(call.result.structuredContent, { sum: 3 })
    assert.equal(call.result.resultType, 'complete')
    assert.equal(call.result.ttlMs, undefined)
  })

  test('the shared list results are not mutated by decoration', async () => {
    await send('tools/list')
    const legacy = await dispatcher.handleRequest({ jsonrpc: '2.0', id: 2, method: 'tools/list' }, env) as any
    assert.equal(legacy.result.resultType, undefined)
  })

  test('methods the revision removed are -32601', async () => {
    for (const method of ['initialize', 'ping', 'logging/setLevel', 'resources/subscribe', 'no/such']) {
      const response = await send(method)
      assert.equal(response.error.code, -32601, method)
    }
  })

  test('a missing envelope key is -32602 and an unknown version is -32022 with the supported list', async () => {
    const missing = await dispatcher.handleRequest({ jsonrpc: '2.0', id: 3, method: 'tools/list', params: { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' } } }, env) as any
    assert.equal(missing.error.code, -32602)
    assert.match(missing.error.message, /clientCapabilities/)
    const unknown = await send('tools/list', {}, { 'io.modelcontextprotocol/protocolVersion': '2099-01-01' })
    assert.equal(unknown.error.code, -32022)
    assert.deepEqual(unknown.error.data, { supported: ['2026-07-28'], requested: '2099-01-01' })
  })

  test('a resource that does not exist is -32602 with its uri', async () => {
    const response = await send('resources/read', { uri: 'memo://missing' })
    assert.equal(response.error.code, -32602)
    assert.deepEqual(response.error.data, { uri: 'memo://missing' })
  })

  test('tool errors keep their 2025 shape: unknown tool -32602, bad arguments isError', async () => {
    assert.equal((await send('tools/call', { name: 'nope' })).error.code, -32602)
    const invalid = await send('tools/call', { name: 'add', arguments: { a: 'x', b: 1 } })
    assert.equal(invalid.result.isError, true)
    assert.equal(invalid.result.resultType, 'complete')
    const thrown = await send('tools/call', { name: 'fail' })
    assert.deepEqual(thrown.result.content, [{ type: 'text', text: 'the database is unreachable' }])
  })
})

describe('multi-round input requests', () => {
  test('a handler that elicits ends the first round input_required with the request and a requestState', async () => {
    const { result } = await send('tools/call', { name: 'greet' })
    assert.equal(result.resultType, 'input_required')
    assert.equal(result.inputRequests.user_name.method, 'elicitation/create')
    assert.equal(result.inputRequests.user_name.params.message, 'What is your name?')
    assert.equal(typeof result.requestState, 'string')
  })

  test('the retry with the requestState and the answer completes', async () => {
    const first = (await send('tools/call', { name: 'greet' })).result
    const { result } = await send('tools/call', {
      name: 'greet',
      requestState: first.requestState,
      inputResponses: { user_name: { action: 'accept', content: { name: 'Ada' } } }
    })
    assert.equal(result.resultType, 'complete')
    assert.deepEqual(result.content, [{ type: 'text', text: 'Hello, Ada!' }])
  })

  test('answers nobody asked for are ignored, never used: without a requestState the server asks again; beside the asked one they change nothing', async () => {
    const unsolicited = (await send('tools/call', { name: 'greet', inputResponses: { user_name: { action: 'accept', content: { name: 'Eve' } } } })).result
    assert.equal(unsolicited.resultType, 'input_required')
    assert.deepEqual(Object.keys(unsolicited.inputRequests), ['user_name'])
    const first = (await send('tools/call', { name: 'greet' })).result
    const extra = (await send('tools/call', {
      name: 'greet',
      requestState: first.requestState,
      inputResponses: { user_name: { action: 'accept', content: { name: 'Ada' } }, unrelated: { x: 1 } }
    })).result
    assert.deepEqual(extra.content, [{ type: 'text', text: 'Hello, Ada!' }])
    const wrongKey = (await send('tools/call', { name: 'greet', requestState: first.requestState, inputResponses: { wrong_key: { action: 'accept', content: {} } } })).result
    assert.equal(wrongKey.resultType, 'input_required', 'a round without the answer it needs asks again')
    assert.deepEqual(Object.keys(wrongKey.inputRequests), ['user_name'])
  })

  test('a client may repeat the answers of earlier rounds with the latest requestState', async () => {
    const name = { action: 'accept', content: { name: 'Ada' } }
    const first = (await send('tools/call', { name: 'survey' })).result
    const second = (await send('tools/call', { name: 'survey', requestState: first.requestState, inputResponses: { name } })).result
    const third = (await send('tools/call', { name: 'survey', requestState: second.requestState, inputResponses: { name, color: { action: 'accept', content: { color: 'red' } } } })).result
    assert.deepEqual(third.content, [{ type: 'text', text: 'Ada likes red' }])
  })

  test('a requestState is bound to the caller: another identity cannot continue the request', async () => {
    const alice: CallEnv = { ...env, auth: { id: 'alice' } }
    const mallory: CallEnv = { ...env, auth: { id: 'mallory' } }
    const call = (params: Record<string, unknown>, as: CallEnv): any =>
      dispatcher.handleRequest({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'survey', ...params, _meta: meta() } }, as)
    const first = (await call({}, alice)).result
    const answer = { requestState: first.requestState, inputResponses: { name: { action: 'accept', content: { name: 'Mallory' } } } }
    const stolen = await call(answer, mallory)
    assert.equal(stolen.error.code, -32602)
    assert.match(stolen.error.message, /^Invalid requestState: it was issued to another caller; start the request again/)
    assert.equal((await call(answer, { ...env, auth: undefined })).error.code, -32602, 'nor a caller without identity')
    assert.equal((await call(answer, alice)).result.resultType, 'input_required', 'alice goes on to the next question')
  })

  test('a requestState is bound to the arguments: the answer to one call cannot be replayed for another', async () => {
    const transfer = defineTool({
      name: 'transfer',
      description: 'Moves money after the user confirms',
      input: Type.Object({ amount: Type.Number(), to: Type.String() }),
      handler: async ({ amount, to }, ctx) => {
        const answer = await ctx.elicit({ mode: 'form', message: `Send ${amount} to ${to}?`, requestedSchema: { type: 'object', properties: {} } }, { key: 'confirm' })
        return answer.action === 'accept' ? `sent ${amount} to ${to}` : 'cancelled'
      }
    })
    const bank = createDispatcher({ info: { name: 'bank', version: '1' }, tools: [transfer] })
    const call = (params: Record<string, unknown>): any =>
      bank.handleRequest({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'transfer', ...params, _meta: meta() } }, env)
    const first = (await call({ arguments: { amount: 1, to: 'bob' } })).result
    const confirm = { requestState: first.requestState, inputResponses: { confirm: { action: 'accept', content: {} } } }
    const replayed = await call({ ...confirm, arguments: { amount: 1_000_000, to: 'mallory' } })
    assert.equal(replayed.error.code, -32602)
    assert.match(replayed.error.message, /^Invalid requestState: it was issued for other arguments/)
    const reordered = await call({ ...confirm, arguments: { to: 'bob', amount: 1 } })
    assert.deepEqual(reordered.result.content, [{ type: 'text', text: 'sent 1 to bob' }], 'the same arguments in another key order still match')
  })

  test('a requestState expires: an old one is refused with -32602', async () => {
    const secret = 'expiry-secret-0123456789'
    const timed = createDispatcher({ info: { name: 'x', version: '1' }, tools: fixtureTools, requestStateSecret: secret })
    const call = (params: Record<string, unknown>): any =>
      timed.handleRequest({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'greet', ...params, _meta: meta() } }, env)
    const first = (await call({})).result
    const state = JSON.parse(Buffer.from(String(first.requestState).split('.')[0], 'base64url').toString('utf8'))
    assert.ok(state.x > Date.now() + 9 * 60_000 && state.x <= Date.now() + 10 * 60_000, 'issued for ten minutes')
    const old = new RequestStateSigner(secret).sign({ ...state, x: Date.now() - 1 })
    const response = await call({ requestState: old, inputResponses: { user_name: { action: 'accept', content: { name: 'Ada' } } } })
    assert.equal(response.error.code, -32602)
    assert.match(response.error.message, /^Invalid requestState: it expired \(input rounds must be answered within 10 minutes\)/)
  })

  test('answers from earlier rounds travel in the requestState', async () => {
    const first = (await send('tools/call', { name: 'survey' })).result
    assert.deepEqual(Object.keys(first.inputRequests), ['name'])
    const second = (await send('tools/call', { name: 'survey', requestState: first.requestState, inputResponses: { name: { action: 'accept', content: { name: 'Ada' } } } })).result
    assert.equal(second.resultType, 'input_required')
    assert.deepEqual(Object.keys(second.inputRequests), ['color'])
    assert.notEqual(second.requestState, first.requestState)
    const third = (await send('tools/call', { name: 'survey', requestState: second.requestState, inputResponses: { color: { action: 'accept', content: { color: 'teal' } } } })).result
    assert.deepEqual(third.content, [{ type: 'text', text: 'Ada likes teal' }])
  })

  test('a tampered requestState, or one from another tool, is refused with -32602', async () => {
    const first = (await send('tools/call', { name: 'survey' })).result
    const tampered = await send('tools/call', { name: 'survey', requestState: `${first.requestState as string}x` })
    assert.equal(tampered.error.code, -32602)
    assert.match(tampered.error.message, /Invalid requestState/)
    const elsewhere = await send('tools/call', { name: 'greet', requestState: first.requestState })
    assert.equal(elsewhere.error.code, -32602)
  })

  test('answers that are not objects are refused with -32602', async () => {
    assert.equal((await send('tools/call', { name: 'greet', inputResponses: { user_name: 12345 } })).error.code, -32602)
    assert.equal((await send('tools/call', { name: 'greet', inputResponses: null })).error.code, -32602)
  })

  test('asking for input the client cannot give is -32021 naming the capability', async () => {
    const response = await send('tools/call', { name: 'greet' }, { 'io.modelcontextprotocol/clientCapabilities': { sampling: {} } })
    assert.equal(response.error.code, -32021)
    assert.deepEqual(response.error.data, { requiredCapabilities: { elicitation: {} } })
  })
})

describe('subscriptions/listen', () => {
  test('the acknowledgement echoes the honoured filters and notifications carry the subscription id', () => {
    const received: any[] = []
    const subscription = dispatcher.listen({ jsonrpc: '2.0', id: 'sub-1', method: 'subscriptions/listen', params: { notifications: { toolsListChanged: true, bogus: true, resourceSubscriptions: ['memo://readme'] } } }, (n) => received.push(n))
    assert.deepEqual(subscription.acknowledgement.params, {
      _meta: { 'io.modelcontextprotocol/subscriptionId': 'sub-1' },
      notifications: { toolsListChanged: true, resourceSubscriptions: ['memo://readme'] }
    })
    dispatcher.notifyListChanged('tools')
    dispatcher.notifyListChanged('prompts')
    dispatcher.notifyResourceUpdated('memo://readme')
    dispatcher.notifyResourceUpdated('memo://other')
    subscription.close()
    dispatcher.notifyListChanged('tools')
    assert.deepEqual(received.map((n) => n.method), ['notifications/tools/list_changed', 'notifications/resources/updated'])
    assert.equal(received[0].params._meta['io.modelcontextprotocol/subscriptionId'], 'sub-1')
    assert.equal(received[1].params.uri, 'memo://readme')
  })
})

test('instances that share a requestStateSecret accept each other\'s requestState, others refuse it', async () => {
  const options = { info: { name: 'x', version: '1' }, tools: fixtureTools, requestStateSecret: 'shared-secret-0123456789' }
  const first = createDispatcher(options)
  const second = createDispatcher(options)
  const stranger = createDispatcher({ ...options, requestStateSecret: 'another-secret-0123456789' })
  const call = (params: Record<string, unknown>): any => ({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'survey', ...params, _meta: meta() } })
  const round1 = (await first.handleRequest(call({}), env) as any).result
  const answer = { requestState: round1.requestState, inputResponses: { name: { action: 'accept', content: { name: 'Ada' } } } }
  const round2 = (await second.handleRequest(call(answer), env) as any).result
  assert.equal(round2.resultType, 'input_required')
  assert.deepEqual(Object.keys(round2.inputRequests), ['color'])
  assert.equal((await stranger.handleRequest(call(answer), env) as any).error.code, -32602)
})
