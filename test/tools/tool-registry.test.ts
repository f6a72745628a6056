import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { Type } from 'typebox'
import { createDispatcher, defineTool, type AnyTool } from '../../plugin/core.js'
import type { CallEnv } from '../../plugin/protocol/call-env.js'
import { silentLogger } from '../../plugin/protocol/logger.js'
import { McpConfigError } from '../../plugin/errors.js'

function env (overrides: Partial<CallEnv> = {}): CallEnv {
  return { transport: 'stdio', auth: undefined, session: undefined, log: silentLogger, ...overrides }
}

async function call (tools: AnyTool[], name: string, args: unknown, options: { toolTimeoutMs?: number } = {}): Promise<any> {
  const dispatcher = createDispatcher({ info: { name: 't', version: '1' }, tools, ...options })
  const response = await dispatcher.handleRequest({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args } }, env())
  return response
}

function tool (handler: AnyTool['handler'], extra: Partial<AnyTool> = {}): AnyTool {
  return { name: 't', description: 'test', input: Type.Object({}), handler, ...extra }
}

describe('tool results', () => {
  test('a string becomes one text content item', async () => {
    const response = await call([tool(() => 'hello')], 't', {})
    assert.deepEqual(response.result, { content: [{ type: 'text', text: 'hello' }] })
  })

  test('an object becomes structuredContent plus its JSON text', async () => {
    const response = await call([tool(() => ({ a: [1, 2] }))], 't', {})
    assert.deepEqual(response.result, { content: [{ type: 'text', text: '{"a":[1,2]}' }], structuredContent: { a: [1, 2] } })
  })

  test('a full { content } result passes through untouched', async () => {
    const full = { content: [{ type: 'image', data: 'AAAA', mimeType: 'image/png' }], isError: false, _meta: { x: 1 } }
    const response = await call([tool(() => full)], 't', {})
    assert.deepEqual(response.result, full)
  })

  test('undefined becomes an empty content list', async () => {
    const response = await call([tool(() => undefined)], 't', {})
    assert.deepEqual(response.result, { content: [] })
  })

  test('an object is checked against the output schema', async () => {
    const typed = tool(() => ({ sum: 'not a number' }), { output: Type.Object({ sum: Type.Number() }) })
    const response = await call([typed], 't', {})
    assert.equal(response.result.isError, true)
    assert.match(response.result.content[0].text, /does not match its output schema: \/sum must be number/)
  })

  test('a thrown error becomes isError with its message and no stack', async () => {
    const response = await call([tool(() => { throw new TypeError('boom') })], 't', {})
    assert.deepEqual(response.result, { content: [{ type: 'text', text: 'boom' }], isError: true })
  })

  test('a rejected non-Error value is reported as text', async () => {
    const response = await call([tool(async () => { throw 'plain string' })], 't', {}) // eslint-disable-line no-throw-literal
    assert.deepEqual(response.result, { content: [{ type: 'text', text: 'plain string' }], isError: true })
  })
})

describe('tool arguments', () => {
  const typed = defineTool({
    name: 'typed',
    description: 'typed',
    input: Type.Object({ n: Type.Integer({ minimum: 1 }), label: Type.String({ default: 'none' }) }),
    handler: ({ n, label }) => `${n}:${label}`
  })

  test('defaults from the schema are filled in before the handler runs', async () => {
    const response = await call([typed], 'typed', { n: 3 })
    assert.equal(response.result.content[0].text, '3:none')
  })

  test('the caller\'s arguments object is not mutated by defaults', async () => {
    const args = { n: 3 }
    await call([typed], 'typed', args)
    assert.deepEqual(args, { n: 3 })
  })

  test('each failing path is named', async () => {
    const response = await call([typed], 'typed', { n: 0, label: 5 })
    assert.equal(response.result.isError, true)
    assert.match(response.result.content[0].text, /\/n must be >= 1/)
    assert.match(response.result.content[0].text, /\/label must be string/)
  })

  test('arguments that are not an object are a tool error', async () => {
    const response = await call([typed], 'typed', [1, 2])
    assert.equal(response.result.isError, true)
    assert.match(response.result.content[0].text, /"arguments" must be an object/)
  })

  test('missing arguments are treated as an empty object', async () => {
    const response = await call([tool(() => 'ok')], 't', undefined)
    assert.equal(response.result.content[0].text, 'ok')
  })

  test('a plain JSON Schema object works as input', async () => {
    const plain = defineTool({
      name: 'plain',
      description: 'plain schema',
      input: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] } as const,
      handler: ({ q }) => q.toUpperCase()
    })
    assert.equal((await call([plain], 'plain', { q: 'hi' })).result.content[0].text, 'HI')
    assert.equal((await call([plain], 'plain', {})).result.isError, true)
  })

  test('an unknown tool name is quoted in the error and cut short when huge', async () => {
    const response = await call([tool(() => 'ok')], 'n'.repeat(5000), {})
    assert.equal(response.error.code, -32602)
    assert.match(response.error.message, /^Unknown tool: "n{64}…"\. Call tools\/list/)
  })

  test('a tool without "name" in params is -32602', async () => {
    const dispatcher = createDispatcher({ info: { name: 't', version: '1' }, tools: [] })
    const response = await dispatcher.handleRequest({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: {} }, env())
    assert.equal((response as any).error.code, -32602)
  })
})

describe('tool timeouts and signals', () => {
  test('a handler that hangs ends as a tool error after its timeout, and its signal fires', async () => {
    let aborted: unknown
    const hang = tool((_args, ctx) => new Promise(() => { ctx.signal.addEventListener('abort', () => { aborted = ctx.signal.reason }) }), { timeoutMs: 20 })
    const response = await call([hang], 't', {})
    assert.deepEqual(response.result, { content: [{ type: 'text', text: 'Tool "t" timed out after 20 ms' }], isError: true })
    assert.equal((aborted as Error).name, 'TimeoutError')
  })

  test('a timeout of a second or more (the shared coarse sweep) still ends the call', async () => {
    const hang = tool(() => new Promise(() => {}), { timeoutMs: 1000 })
    const started = Date.now()
    const response = await call([hang], 't', {})
    assert.match(response.result.content[0].text, /timed out after 1000 ms/)
    assert.ok(Date.now() - started >= 1000)
  })

  test('the host-wide timeout applies when the tool sets none', async () => {
    const hang = tool(() => new Promise(() => {}))
    const response = await call([hang], 't', {}, { toolTimeoutMs: 15 })
    assert.match(response.result.content[0].text, /timed out after 15 ms/)
  })

  test('the context carries transport, identity and request id', async () => {
    let seen: any
    const dispatcher = createDispatcher({ info: { name: 't', version: '1' }, tools: [tool((_a, ctx) => { seen = ctx; return 'ok' })] })
    await dispatcher.handleRequest({ jsonrpc: '2.0', id: 'r1', method: 'tools/call', params: { name: 't' } }, env({ transport: 'sse', auth: { id: 'alice' } }))
    assert.equal(seen.transport, 'sse')
    assert.equal(seen.auth.id, 'alice')
    assert.equal(seen.requestId, 'r1')
    assert.ok(seen.signal instanceof AbortSignal)
    assert.equal(typeof seen.log.info, 'function')
  })
})

describe('tool definitions are checked when registered', () => {
  const cases: Array<[string, Partial<AnyTool>, RegExp]> = [
    ['a name with spaces', { name: 'has space' }, /name must be 1-128 letters/],
    ['a missing handler', { handler: undefined }, /"handler" must be a function/],
    ['a non-object input schema', { input: Type.String() }, /"input" must be an object schema/],
    ['a non-object output schema', { output: Type.Array(Type.String()) }, /"output" must be an object schema/],
    ['a missing description', { description: undefined }, /"description" must be a string/]
  ]
  for (const [label, change, message] of cases) {
    test(`${label} is refused with a clear error`, () => {
      assert.throws(() => createDispatcher({ info: { name: 't', version: '1' }, tools: [{ ...tool(() => ''), ...change } as AnyTool] }),
        (error: unknown) => error instanceof McpConfigError && message.test(error.message))
    })
  }

  test('two tools with one name are refused', () => {
    assert.throws(() => createDispatcher({ info: { name: 't', version: '1' }, tools: [tool(() => ''), tool(() => '')] }), /Two tools are named "t"/)
  })
})

describe('argument problems quote the client\'s input cut short', () => {
  test('a failing property with a 10 KB name is named by its first 64 characters', async () => {
    const numbers = tool(() => 'ok', { name: 'numbers', input: Type.Object({ tags: Type.Record(Type.String(), Type.Number()) }) })
    const longKey = await call([numbers], 'numbers', { tags: { ['k'.repeat(10_000)]: 'not a number' } })
    assert.match(longKey.result.content[0].text, /^Invalid arguments for tool "numbers": \/tags\/k{58}… must be number$/)
  })
})
