import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { Type } from 'typebox'
import { createDispatcher, definePrompt, JsonRpcError, McpConfigError, type AnyPrompt } from '../../plugin/core.js'
import type { CallEnv } from '../../plugin/protocol/call-env.js'
import { LocalClientSession } from '../../plugin/protocol/client-session.js'
import { silentLogger } from '../../plugin/protocol/logger.js'
import { normalizePromptReturn } from '../../plugin/prompts/prompt-registry.js'

function env (overrides: Partial<CallEnv> = {}): CallEnv {
  return { transport: 'stdio', auth: undefined, session: undefined, log: silentLogger, ...overrides }
}

function dispatcherWith (prompts: AnyPrompt[], toolTimeoutMs?: number): ReturnType<typeof createDispatcher> {
  return createDispatcher({ info: { name: 't', version: '1' }, tools: [], prompts, toolTimeoutMs })
}

async function get (prompts: AnyPrompt[], params: Record<string, unknown>, toolTimeoutMs?: number): Promise<any> {
  return await dispatcherWith(prompts, toolTimeoutMs).handleRequest({ jsonrpc: '2.0', id: 1, method: 'prompts/get', params }, env())
}

const review = definePrompt({
  name: 'review',
  title: 'Code review',
  description: 'Asks for a code review',
  arguments: Type.Object({
    language: Type.String({ description: 'Programming language', title: 'Language' }),
    focus: Type.Optional(Type.String())
  }),
  handler: ({ language, focus }) => `Review this ${language} code${focus === undefined ? '' : `, focusing on ${focus}`}.`
})

const bare = definePrompt({ name: 'bare', handler: () => 'Say hello.' })

describe('prompts/list', () => {
  test('describes each prompt: name, title, description, and each argument with whether it is required', async () => {
    const response = await dispatcherWith([review, bare]).handleRequest({ jsonrpc: '2.0', id: 1, method: 'prompts/list' }, env())
    assert.deepEqual((response as any).result, {
      prompts: [
        {
          name: 'review',
          title: 'Code review',
          description: 'Asks for a code review',
          arguments: [
            { name: 'language', required: true, title: 'Language', description: 'Programming language' },
            { name: 'focus', required: false }
          ]
        },
        { name: 'bare' }
      ]
    })
  })

  test('a server with prompts advertises them, with list changes; one without has no prompts methods', async () => {
    const initialize = { jsonrpc: '2.0' as const, id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {} } }
    const withPrompts = await dispatcherWith([bare]).handleRequest(initialize, env()) as any
    assert.deepEqual(withPrompts.result.capabilities.prompts, { listChanged: true })
    assert.deepEqual(withPrompts.result.capabilities.completions, {})
    const without = dispatcherWith([])
    assert.equal(((await without.handleRequest(initialize, env())) as any).result.capabilities.prompts, undefined)
    const refused = await without.handleRequest({ jsonrpc: '2.0', id: 2, method: 'prompts/list' }, env()) as any
    assert.equal(refused.error.code, -32601)
  })
})

describe('prompts/get results', () => {
  test('a string becomes one user text message, with the prompt\'s description', async () => {
    const response = await get([review], { name: 'review', arguments: { language: 'rust', focus: 'safety' } })
    assert.deepEqual(response.result, {
      description: 'Asks for a code review',
      messages: [{ role: 'user', content: { type: 'text', text: 'Review this rust code, focusing on safety.' } }]
    })
  })

  test('a list of messages is kept as is, with the description when there is one', async () => {
    const messages = [
      { role: 'user', content: { type: 'text', text: 'Look at this' } },
      { role: 'assistant', content: { type: 'image', data: 'AAAA', mimeType: 'image/png' } },
      { role: 'user', content: { type: 'resource', resource: { uri: 'memo://a', text: 'a' } } }
    ]
    const described = await get([definePrompt({ name: 'p', description: 'd', handler: () => messages as any })], { name: 'p' })
    assert.deepEqual(described.result, { description: 'd', messages })
    const plain = await get([definePrompt({ name: 'p', handler: () => messages as any })], { name: 'p' })
    assert.deepEqual(plain.result, { messages })
  })

  test('a full result passes through untouched: the definition\'s description does not replace its own', async () => {
    const full = { description: 'its own', messages: [{ role: 'user', content: { type: 'text', text: 'x' } }], _meta: { k: 1 } }
    const response = await get([definePrompt({ name: 'p', description: 'the definition\'s', handler: async () => full as any })], { name: 'p' })
    assert.deepEqual(response.result, full)
  })

  test('normalizePromptReturn leaves out the description when the definition has none', () => {
    assert.deepEqual(normalizePromptReturn('hi', undefined), { messages: [{ role: 'user', content: { type: 'text', text: 'hi' } }] })
  })

  test('the handler gets the checked arguments and a context naming the transport and the request', async () => {
    let seen: unknown
    const prompt = definePrompt({
      name: 'p',
      arguments: Type.Object({ topic: Type.String() }),
      handler: ({ topic }, ctx) => {
        seen = { topic, transport: ctx.transport, requestId: ctx.requestId, aborted: ctx.signal.aborted }
        return 'ok'
      }
    })
    await get([prompt], { name: 'p', arguments: { topic: 'tests' } })
    assert.deepEqual(seen, { topic: 'tests', transport: 'stdio', requestId: 1, aborted: false })
  })

  test('a prompt without an arguments schema gets whatever object of arguments was sent', async () => {
    let seen: unknown
    await get([definePrompt({ name: 'p', handler: (args) => { seen = args; return 'ok' } })], { name: 'p', arguments: { any: 'thing' } })
    assert.deepEqual(seen, { any: 'thing' })
  })
})

describe('prompts/get refusals', () => {
  test('a missing name is -32602 saying what to send', async () => {
    const response = await get([review], {})
    assert.equal(response.error.code, -32602)
    assert.match(response.error.message, /prompts\/get needs "name"/)
  })

  test('an unknown prompt is -32602 naming it and pointing at prompts/list', async () => {
    const response = await get([review], { name: 'nope' })
    assert.equal(response.error.code, -32602)
    assert.match(response.error.message, /Unknown prompt: "nope"\. Call prompts\/list/)
  })

  test('arguments that are not an object are -32602', async () => {
    for (const args of [['rust'], 'rust', 7]) {
      const response = await get([review], { name: 'review', arguments: args })
      assert.equal(response.error.code, -32602, JSON.stringify(args))
      assert.match(response.error.message, /Invalid arguments for prompt "review": "arguments" must be an object of strings/)
    }
  })

  test('a missing required argument or one of the wrong type is -32602 naming the path, and the handler does not run', async () => {
    let ran = false
    const prompt = { ...review, handler: () => { ran = true; return 'x' } }
    const missing = await get([prompt], { name: 'review' })
    assert.equal(missing.error.code, -32602)
    assert.match(missing.error.message, /Invalid arguments for prompt "review": .*language/)
    const wrong = await get([prompt], { name: 'review', arguments: { language: 42 } })
    assert.match(wrong.error.message, /\/language must be string/)
    assert.equal(ran, false)
  })
})

describe('prompt handlers that fail', () => {
  test('a thrown error is -32603 naming the prompt and the message', async () => {
    const response = await get([definePrompt({ name: 'p', handler: () => { throw new Error('template missing') } })], { name: 'p' })
    assert.deepEqual(response.error, { code: -32603, message: 'Prompt "p" failed: template missing' })
  })

  test('a JsonRpcError thrown by the handler reaches the client as that error', async () => {
    const response = await get([definePrompt({ name: 'p', handler: () => { throw new JsonRpcError(-32602, 'no such topic', { topic: 'x' }) } })], { name: 'p' })
    assert.deepEqual(response.error, { code: -32602, message: 'no such topic', data: { topic: 'x' } })
  })

  test('a handler that outlives the timeout is -32603 saying so, and its signal fires', async () => {
    let signal: AbortSignal | undefined
    const hang = definePrompt({ name: 'p', handler: async (_args, ctx) => { signal = ctx.signal; return await new Promise<string>(() => {}) } })
    const response = await get([hang], { name: 'p' }, 20)
    assert.deepEqual(response.error, { code: -32603, message: 'Prompt "p" timed out after 20 ms' })
    assert.equal(signal?.aborted, true)
  })

  test('a prompts/get the client cancels gets no response, and the handler\'s signal fires', async () => {
    const session = new LocalClientSession(undefined, undefined, undefined)
    const dispatcher = dispatcherWith([definePrompt({
      name: 'p',
      handler: async (_args, ctx) => await new Promise<string>((resolve) => { ctx.signal.addEventListener('abort', () => { resolve(String(ctx.signal.reason)) }) })
    })])
    const pending = dispatcher.handleRequest({ jsonrpc: '2.0', id: 'g', method: 'prompts/get', params: { name: 'p' } }, env({ session }))
    dispatcher.handleNotification({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'g', reason: 'closed' } }, env({ session }))
    assert.equal(await pending, undefined)
  })
})

describe('prompt definitions', () => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['an empty name', { name: '', handler: () => 'x' }, /Invalid prompt "": "name" must be a non-empty string/],
    ['a missing handler', { name: 'p' }, /Invalid prompt "p": "handler" must be a function/],
    ['arguments that are not an object schema', { name: 'p', arguments: Type.String(), handler: () => 'x' }, /"arguments" must be an object schema/]
  ]
  for (const [label, definition, message] of cases) {
    test(`${label} is refused at registration with MCP_ERR_DEFINITION`, () => {
      assert.throws(() => dispatcherWith([definition as AnyPrompt]), (error: unknown) =>
        error instanceof McpConfigError && error.code === 'MCP_ERR_DEFINITION' && message.test(error.message))
    })
  }

  test('two prompts with one name are refused with MCP_ERR_DUPLICATE', () => {
    assert.throws(() => dispatcherWith([bare, { ...bare }]), (error: unknown) =>
      error instanceof McpConfigError && error.code === 'MCP_ERR_DUPLICATE' && /Two prompts are named "bare"/.test(error.message))
  })
})
