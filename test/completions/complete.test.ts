import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { Type } from 'typebox'
import { createDispatcher, definePrompt, defineResource, type AnyPrompt, type AnyResource } from '../../plugin/core.js'
import type { CallEnv } from '../../plugin/protocol/call-env.js'
import { silentLogger } from '../../plugin/protocol/logger.js'

const ENV: CallEnv = { transport: 'stdio', auth: undefined, session: undefined, log: silentLogger }
const LANGUAGES = ['typescript', 'python', 'rust', 'ruby']

/** What the last completer call saw: the typed value and the arguments the client already filled in. */
let lastCall: { value: string, known: Record<string, string> } | undefined

const review = definePrompt({
  name: 'review',
  arguments: Type.Object({ language: Type.String(), framework: Type.Optional(Type.String()), note: Type.Optional(Type.String()) }),
  complete: {
    language: (value) => LANGUAGES.filter((language) => language.startsWith(value)),
    framework: async (value, { arguments: known }) => {
      lastCall = { value, known }
      return known.language === 'python' ? ['django', 'flask'].filter((name) => name.startsWith(value)) : []
    }
  },
  handler: ({ language }) => `Review ${language}`
})

const numbers = definePrompt({
  name: 'numbers',
  arguments: Type.Object({ n: Type.String() }),
  complete: { n: (value) => Array.from({ length: Number(value) }, (_, i) => String(i)) },
  handler: ({ n }) => n
})

const broken = definePrompt({
  name: 'broken',
  arguments: Type.Object({ x: Type.String() }),
  complete: { x: () => { throw new Error('the index is rebuilding') } },
  handler: () => 'x'
})

const profile = defineResource({
  uriTemplate: 'users://{id}/profile',
  name: 'profile',
  complete: { id: (value) => ['alice', 'bob', 'carol'].filter((id) => id.startsWith(value)) },
  handler: (_uri, { id }) => id
})

const readme = defineResource({ uri: 'memo://readme', name: 'readme', handler: () => '# Hi' })

function dispatcherWith (prompts: AnyPrompt[] = [review, numbers, broken], resources: AnyResource[] = [profile, readme]): ReturnType<typeof createDispatcher> {
  return createDispatcher({ info: { name: 't', version: '1' }, tools: [], prompts, resources })
}

async function complete (params: Record<string, unknown>, dispatcher = dispatcherWith()): Promise<any> {
  return await dispatcher.handleRequest({ jsonrpc: '2.0', id: 1, method: 'completion/complete', params }, ENV)
}

const promptRef = (name: string): Record<string, unknown> => ({ type: 'ref/prompt', name })

describe('completion/complete answers', () => {
  test('a prompt argument is completed from what the user typed, with the total and hasMore', async () => {
    const response = await complete({ ref: promptRef('review'), argument: { name: 'language', value: 'r' } })
    assert.deepEqual(response.result, { completion: { values: ['rust', 'ruby'], total: 2, hasMore: false } })
  })

  test('a resource template variable is completed', async () => {
    const response = await complete({ ref: { type: 'ref/resource', uri: 'users://{id}/profile' }, argument: { name: 'id', value: 'b' } })
    assert.deepEqual(response.result.completion.values, ['bob'])
  })

  test('the completer sees the arguments already filled in (context.arguments), and may be async', async () => {
    const response = await complete({
      ref: promptRef('review'),
      argument: { name: 'framework', value: 'd' },
      context: { arguments: { language: 'python' } }
    })
    assert.deepEqual(response.result.completion.values, ['django'])
    assert.deepEqual(lastCall, { value: 'd', known: { language: 'python' } })
  })

  test('a context that is not an object of arguments counts as none', async () => {
    for (const context of ['python', { arguments: 'python' }, null]) {
      const response = await complete({ ref: promptRef('review'), argument: { name: 'framework', value: '' }, context })
      assert.deepEqual(response.result.completion.values, [], JSON.stringify(context))
      assert.deepEqual(lastCall?.known, {})
    }
  })

  test('an argument without a completer gets an empty list, not an error', async () => {
    const response = await complete({ ref: promptRef('review'), argument: { name: 'note', value: 'x' } })
    assert.deepEqual(response.result, { completion: { values: [], hasMore: false } })
  })

  test('at most 100 values are sent, with the full total and hasMore', async () => {
    const many = await complete({ ref: promptRef('numbers'), argument: { name: 'n', value: '250' } })
    assert.equal(many.result.completion.values.length, 100)
    assert.deepEqual(many.result.completion.values.slice(0, 3), ['0', '1', '2'])
    assert.equal(many.result.completion.total, 250)
    assert.equal(many.result.completion.hasMore, true)
    const exactly = await complete({ ref: promptRef('numbers'), argument: { name: 'n', value: '100' } })
    assert.deepEqual([exactly.result.completion.values.length, exactly.result.completion.total, exactly.result.completion.hasMore], [100, 100, false])
  })
})

describe('completion/complete refusals', () => {
  test('an unknown prompt is -32602 naming it', async () => {
    const response = await complete({ ref: promptRef('nope'), argument: { name: 'x', value: '' } })
    assert.equal(response.error.code, -32602)
    assert.match(response.error.message, /Unknown prompt: "nope"/)
  })

  test('an unknown resource template, or a fixed resource URI, is -32602 naming it', async () => {
    for (const uri of ['files://{path}', 'memo://readme']) {
      const response = await complete({ ref: { type: 'ref/resource', uri }, argument: { name: 'id', value: '' } })
      assert.equal(response.error.code, -32602, uri)
      assert.match(response.error.message, /Unknown resource template: /)
    }
  })

  test('a ref of another type, or without its name or uri, is -32602 saying which refs exist', async () => {
    for (const ref of [{ type: 'ref/tool', name: 'add' }, { type: 'ref/prompt' }, { type: 'ref/resource', uri: 7 }]) {
      const response = await complete({ ref, argument: { name: 'x', value: '' } })
      assert.equal(response.error.code, -32602, JSON.stringify(ref))
      assert.match(response.error.message, /needs "ref": \{ "type": "ref\/prompt", "name" \} or \{ "type": "ref\/resource", "uri" \}/)
    }
  })

  test('a missing ref or argument, or an argument without a string name and value, is -32602', async () => {
    const bad = [
      {},
      { ref: promptRef('review') },
      { argument: { name: 'language', value: 'r' } },
      { ref: 'review', argument: { name: 'language', value: 'r' } },
      { ref: promptRef('review'), argument: { name: 'language' } },
      { ref: promptRef('review'), argument: { name: 7, value: 'r' } },
      { ref: promptRef('review'), argument: ['language', 'r'] }
    ]
    for (const params of bad) {
      const response = await complete(params)
      assert.equal(response.error.code, -32602, JSON.stringify(params))
      assert.match(response.error.message, /completion\/complete needs "ref" and "argument": \{ "name", "value" \}/)
    }
  })

  test('a completer that throws is -32603 with its message, and the next completion still works', async () => {
    const dispatcher = dispatcherWith()
    const response = await complete({ ref: promptRef('broken'), argument: { name: 'x', value: '' } }, dispatcher)
    assert.equal(response.error.code, -32603)
    assert.match(response.error.message, /completion\/complete: the index is rebuilding/)
    const next = await complete({ ref: promptRef('review'), argument: { name: 'language', value: 'py' } }, dispatcher)
    assert.deepEqual(next.result.completion.values, ['python'])
  })

  test('a server with neither prompts nor resources does not serve completion/complete', async () => {
    const response = await complete({ ref: promptRef('review'), argument: { name: 'language', value: 'r' } }, dispatcherWith([], []))
    assert.equal(response.error.code, -32601)
  })

  test('a server with resources only still refuses prompt refs as unknown prompts', async () => {
    const response = await complete({ ref: promptRef('review'), argument: { name: 'language', value: 'r' } }, dispatcherWith([], [profile]))
    assert.equal(response.error.code, -32602)
    assert.match(response.error.message, /Unknown prompt: "review"/)
  })
})
