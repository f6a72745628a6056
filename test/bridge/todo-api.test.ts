import { test, describe, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { Client as ModernClient, StreamableHTTPClientTransport as ModernHttpTransport } from '@modelcontextprotocol/client'
import { buildTodoApp } from '../../examples/todo-api/app.js'
import type { TodoStore } from '../../examples/todo-api/todo-store.js'
import type { McpPluginOptions } from '../../plugin/index.js'
import { connectSse } from '../helpers/clients.js'
import { MCP_HEADERS, rpc } from '../helpers/raw-http.js'

const ALICE = 'alice-token-0123456789'
const BOB = 'bob-token-0123456789'
const API_KEY = 'the-api-key'

interface Tool {
  name: string
  title?: string
  description?: string
  inputSchema: Record<string, any>
  outputSchema?: Record<string, any>
  annotations?: Record<string, unknown>
}

interface Result {
  content: Array<{ type: string, text?: string }>
  structuredContent?: any
  isError?: boolean
}

/** The two SDK lines behind one small interface, so every test runs over each client and transport. */
interface ToolClient {
  list: () => Promise<Tool[]>
  call: (name: string, args: Record<string, unknown>, signal?: AbortSignal) => Promise<Result>
}

interface Sample {
  url: string
  store: TodoStore
  logs: string[]
}

async function startSample (t: TestContext, mcp: Omit<McpPluginOptions, 'auth'> = {}): Promise<Sample> {
  const logs: string[] = []
  const { app, store } = await buildTodoApp({
    tokens: [{ token: ALICE, id: 'alice' }, { token: BOB, id: 'bob' }],
    apiKey: API_KEY,
    logger: { level: 'info', stream: { write: (line: string) => { logs.push(line) } } },
    mcp
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.after(async () => { await app.close() })
  const { port } = app.server.address() as { port: number }
  return { url: `http://127.0.0.1:${port}`, store, logs }
}

function legacyClient (client: Client): ToolClient {
  return {
    list: async () => (await client.listTools()).tools as Tool[],
    call: async (name, args, signal) => await client.callTool({ name, arguments: args }, undefined, { signal }) as Result
  }
}

async function connectLegacyHttp (t: TestContext, url: string, token: string): Promise<ToolClient> {
  const client = new Client({ name: 'bridge-test', version: '1.0.0' })
  await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }))
  t.after(async () => { await client.close() })
  return legacyClient(client)
}

async function connectModern (t: TestContext, url: string, token: string): Promise<ToolClient> {
  const client = new ModernClient({ name: 'bridge-test', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } })
  await client.connect(new ModernHttpTransport(new URL(`${url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }))
  t.after(async () => { await client.close() })
  assert.equal(client.getProtocolEra(), 'modern')
  return {
    list: async () => (await client.listTools()).tools as Tool[],
    call: async (name, args, signal) => await client.callTool({ name, arguments: args }, { signal }) as Result
  }
}

interface Transport {
  label: string
  options: Omit<McpPluginOptions, 'auth'>
  connect: (t: TestContext, url: string, token: string) => Promise<ToolClient>
  /**
   * Whether the client's cancellation reaches the server. A 2025-era stateless POST cannot be cancelled: the 1.x
   * client sends notifications/cancelled as a request of its own, with no session to find the call by, and
   * leaves the POST open (a client that hangs up is tested separately).
   */
  cancels: boolean
}

const TRANSPORTS: Transport[] = [
  { label: 'stateless Streamable HTTP, SDK 1.x (2025 era)', options: {}, connect: connectLegacyHttp, cancels: false },
  { label: 'stateful Streamable HTTP, SDK 1.x (2025 era)', options: { streamable: { sessions: true } }, connect: connectLegacyHttp, cancels: true },
  { label: 'legacy HTTP+SSE, SDK 1.x', options: {}, connect: async (t, url, token) => legacyClient(await connectSse(t, `${url}/sse`, token)), cancels: true },
  { label: 'Streamable HTTP, SDK 2.x (2026-07-28 era)', options: {}, connect: connectModern, cancels: true }
]

function text (result: Result): string {
  return result.content.map((item) => item.text ?? '').join('\n')
}

async function until (condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

const TODO_SCHEMA = {
  type: 'object',
  properties: {
    id: { type: 'integer', minimum: 1 },
    title: { type: 'string', minLength: 1, maxLength: 200, description: 'What to do' },
    done: { type: 'boolean' },
    priority: { anyOf: [{ type: 'string', const: 'low' }, { type: 'string', const: 'normal' }, { type: 'string', const: 'high' }] },
    tags: { type: 'array', items: { type: 'string' } },
    due: { anyOf: [{ type: 'string', format: 'date' }, { type: 'null' }], description: 'Due date (YYYY-MM-DD), or null' },
    createdBy: { type: 'string', description: 'Who added it' }
  },
  required: ['id', 'title', 'done', 'priority', 'tags', 'due', 'createdBy'],
  additionalProperties: false
}

for (const transport of TRANSPORTS) {
  describe(`the sample to-do API over ${transport.label}`, () => {
    test('tools/list shows exactly the marked routes, with their full schemas', async (t) => {
      const { url } = await startSample(t, transport.options)
      const tools = await (await transport.connect(t, url, ALICE)).list()
      assert.deepEqual(tools.map((tool) => tool.name).sort(),
        ['createTodo', 'deleteTodo', 'exportTodos', 'getTodo', 'listTodos', 'replaceTodo', 'todoStats'])
      const byName = new Map(tools.map((tool) => [tool.name, tool]))

      const list = byName.get('listTodos')!
      assert.equal(list.title, 'List to-dos')
      assert.deepEqual(list.annotations, { readOnlyHint: true })
      assert.deepEqual(list.inputSchema, {
        type: 'object',
        properties: {
          done: { type: 'boolean', description: 'Only finished (true) or open (false) to-dos' },
          tag: { type: 'string' },
          limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 }
        },
        additionalProperties: false
      })
      assert.deepEqual(list.outputSchema, { type: 'object', properties: { result: { type: 'array', items: TODO_SCHEMA } }, required: ['result'] })

      const create = byName.get('createTodo')!
      assert.equal(create.title, 'Add a to-do')
      assert.equal(create.description, 'Adds a to-do and returns it with its number')
      assert.deepEqual(create.annotations, { readOnlyHint: false })
      assert.deepEqual(create.inputSchema.properties.priority, { anyOf: [{ type: 'string', const: 'low' }, { type: 'string', const: 'normal' }, { type: 'string', const: 'high' }], default: 'normal' })
      assert.deepEqual(create.inputSchema.properties.tags, { type: 'array', items: { type: 'string', minLength: 1 }, maxItems: 10 })
      assert.deepEqual(create.inputSchema.required, ['title'])
      assert.deepEqual(create.outputSchema, TODO_SCHEMA)

      const replace = byName.get('replaceTodo')!
      assert.deepEqual(replace.annotations, { readOnlyHint: false, idempotentHint: true })
      assert.deepEqual(replace.inputSchema.properties.path_id, { type: 'integer', minimum: 1, description: 'Path parameter "id": The to-do\'s number' })
      assert.deepEqual(replace.inputSchema.properties.body_id, { type: 'integer', minimum: 1, description: 'Body field "id"' })
      assert.deepEqual(byName.get('deleteTodo')!.annotations, { readOnlyHint: false, destructiveHint: true, idempotentHint: true })
      assert.deepEqual(byName.get('exportTodos')!.annotations, { readOnlyHint: true })
    })

    test('calls run the real routes and return structured results', async (t) => {
      const { url } = await startSample(t, transport.options)
      const client = await transport.connect(t, url, ALICE)
      const created = await client.call('createTodo', { title: 'Water the plants', tags: ['home'], due: '2026-12-24' })
      assert.equal(created.isError, undefined, text(created))
      assert.deepEqual(created.structuredContent,
        { id: 1, title: 'Water the plants', done: false, priority: 'normal', tags: ['home'], due: '2026-12-24', createdBy: 'alice' })
      assert.deepEqual(JSON.parse(text(created)), created.structuredContent)
      await client.call('createTodo', { title: 'File taxes', priority: 'high' })

      assert.equal((await client.call('getTodo', { id: 2 })).structuredContent.title, 'File taxes')
      const listed = await client.call('listTodos', { tag: 'home' })
      assert.deepEqual(listed.structuredContent.result.map((todo: { id: number }) => todo.id), [1])
      assert.equal((await client.call('listTodos', { limit: 1 })).structuredContent.result.length, 1)

      const replaced = await client.call('replaceTodo', { path_id: 1, body_id: 1, title: 'Water the plants', done: true, priority: 'low', tags: [], due: null, createdBy: 'alice' })
      assert.equal(replaced.structuredContent.done, true)
      const mismatch = await client.call('replaceTodo', { path_id: 1, body_id: 2, title: 'x', done: true, priority: 'low', tags: [], due: null, createdBy: 'alice' })
      assert.equal(mismatch.isError, true)
      assert.match(text(mismatch), /^PUT \/api\/todos\/:id answered 400 Bad Request: .*must match the URL/)

      const deleted = await client.call('deleteTodo', { id: 2 })
      assert.equal(deleted.isError, undefined, text(deleted))
      assert.match(text(deleted), /204 No Content/)
    })

    test('bad arguments are refused before the route runs', async (t) => {
      const { url, store } = await startSample(t, transport.options)
      const client = await transport.connect(t, url, ALICE)
      const seen = store.requestsSeen
      const cases: Array<[string, Record<string, unknown>, RegExp]> = [
        ['getTodo', { id: 0 }, /\/id must be >= 1/],
        ['getTodo', { id: 'one' }, /\/id must be integer/],
        ['getTodo', {}, /must have required properties id/],
        ['createTodo', { title: '' }, /\/title must not have fewer than 1 characters/],
        ['createTodo', { title: 'x', due: 'tomorrow' }, /\/due/],
        ['createTodo', { title: 'x', colour: 'red' }, /must not have additional properties/],
        ['listTodos', { limit: 1000 }, /\/limit must be <= 100/]
      ]
      for (const [name, args, message] of cases) {
        const result = await client.call(name, args)
        assert.equal(result.isError, true, `${name} ${JSON.stringify(args)}`)
        assert.match(text(result), message)
      }
      assert.equal(store.requestsSeen, seen, 'the API\'s hook saw none of them')
    })

    test('the API\'s own hook sees who calls, and can refuse', async (t) => {
      const { url } = await startSample(t, transport.options)
      const alice = await transport.connect(t, url, ALICE)
      const bob = await transport.connect(t, url, BOB)
      assert.equal((await alice.call('createTodo', { title: 'Mine' })).structuredContent.createdBy, 'alice')
      const refused = await bob.call('createTodo', { title: 'Not allowed' })
      assert.equal(refused.isError, true)
      assert.equal(text(refused), 'POST /api/todos answered 403 Forbidden: {"message":"bob may only read to-dos"}')
      assert.equal((await bob.call('getTodo', { id: 1 })).structuredContent.title, 'Mine')
      assert.equal((await bob.call('deleteTodo', { id: 1 })).isError, true)
      assert.equal((await bob.call('listTodos', {})).structuredContent.result.length, 1)
    })

    test('a 404 and a thrown error come back as tool errors with status and body', async (t) => {
      const { url, logs } = await startSample(t, transport.options)
      const client = await transport.connect(t, url, ALICE)
      const missing = await client.call('getTodo', { id: 99 })
      assert.equal(missing.isError, true)
      assert.equal(text(missing), 'GET /api/todos/:id answered 404 Not Found: {"message":"No to-do 99"}')
      const failed = await client.call('todoStats', {})
      assert.equal(failed.isError, true)
      assert.match(text(failed), /^GET \/api\/stats answered 500 Internal Server Error: .*The statistics service is unreachable/)
      assert.equal(failed.structuredContent, undefined)
      const logged = logs.map((line) => JSON.parse(line)).find((line) => line.msg === 'Bridged route failed')
      assert.equal(logged?.statusCode, 500)
      assert.equal(logged?.tool, 'todoStats')
      assert.equal(logged?.level, 50)
      assert.ok(!logs.some((line) => line.includes(ALICE)), 'no log line holds the token')
    })

    if (transport.cancels) {
      test('cancelling the call aborts the route\'s request', async (t) => {
        const { url, store } = await startSample(t, transport.options)
        const client = await transport.connect(t, url, ALICE)
        const controller = new AbortController()
        const call = client.call('exportTodos', {}, controller.signal)
        await until(() => store.exports.length === 1, 'the export started')
        assert.equal(store.exports[0].by, 'alice')
        controller.abort()
        await assert.rejects(call)
        await until(() => store.exports[0].aborted, 'the route saw its request aborted')
        assert.equal(store.exports[0].finished, true)
        assert.equal((await client.call('getTodo', { id: 1 })).isError, true, 'the server keeps serving')
      })
    }
  })
}

describe('a client that hangs up', () => {
  test('a stateless call whose POST is dropped aborts the route\'s request', async (t) => {
    const { url, store } = await startSample(t)
    const controller = new AbortController()
    const body = JSON.stringify(rpc('tools/call', { name: 'exportTodos', arguments: {} }))
    const call = fetch(`${url}/mcp`, { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${ALICE}` }, body, signal: controller.signal })
    await until(() => store.exports.length === 1, 'the export started')
    controller.abort()
    await assert.rejects(call)
    await until(() => store.exports[0].aborted, 'the route saw its request aborted')
  })
})

describe('the sample API for ordinary HTTP clients', () => {
  test('its routes still need its own API key: no header can pass for an MCP caller', async (t) => {
    const { url } = await startSample(t)
    const forged = await fetch(`${url}/api/todos`, { headers: { authorization: `Bearer ${ALICE}`, 'x-mcp-bridge': 'alice', mcpbridge: '{"auth":{"id":"alice"}}' } })
    assert.equal(forged.status, 401)
    const keyed = await fetch(`${url}/api/todos`, { headers: { 'x-api-key': API_KEY } })
    assert.equal(keyed.status, 200)
    assert.deepEqual(await keyed.json(), [])
  })
})
