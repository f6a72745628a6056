/**
 * `npm run test:inspector`: the official MCP inspector CLI (an independent client) against the sample to-do API of
 * examples/todo-api, over Streamable HTTP and legacy SSE: the tool list and its schemas (with the inspector's
 * schema portability check), structured results, refused arguments, the API's own auth, 404 and 500.
 *
 * Not part of `npm test`: the inspector needs Node 22 and comes from the npm registry through npx (about 50 s
 * the first time, then about 6 s a call). It lives outside test/ because Node 20's `node --test dist/test/` runs
 * every .js file under a directory named test.
 */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import type { FastifyInstance } from 'fastify'
import { buildTodoApp } from '../examples/todo-api/app.js'
import type { TodoStore } from '../examples/todo-api/todo-store.js'
import { AUTH_MISSING, runInspector, TOOL_ERROR, type InspectorRun } from './inspector-cli.js'

const ALICE = 'inspector-alice-token'
const BOB = 'inspector-bob-token'

let app: FastifyInstance
let store: TodoStore
let base: string

before(async () => {
  ({ app, store } = await buildTodoApp({ tokens: [{ token: ALICE, id: 'alice' }, { token: BOB, id: 'bob' }], apiKey: 'inspector-api-key' }))
  await app.listen({ port: 0, host: '127.0.0.1' })
  base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
})

after(async () => { await app.close() })

/** One inspector CLI run against the to-do API's /mcp or /sse. */
async function inspector (transport: 'http' | 'sse', token: string | undefined, ...args: string[]): Promise<InspectorRun> {
  return await runInspector(transport === 'http' ? `${base}/mcp` : `${base}/sse`, transport, token, args)
}

const call = async (transport: 'http' | 'sse', token: string, tool: string, ...args: string[]): Promise<InspectorRun> =>
  await inspector(transport, token, '--method', 'tools/call', '--tool-name', tool, ...(args.length === 0 ? [] : ['--tool-arg', ...args]))

test('tools/list shows exactly the marked routes, with schemas the inspector finds portable', async () => {
  const run = await inspector('http', ALICE, '--method', 'tools/list', '--strict')
  assert.equal(run.code, 0, run.stderr)
  const tools = run.json.tools as Array<{ name: string, inputSchema: any, outputSchema?: any }>
  assert.deepEqual(tools.map((tool) => tool.name).sort(), ['createTodo', 'deleteTodo', 'exportTodos', 'getTodo', 'listTodos', 'replaceTodo', 'todoStats'])
  const create = tools.find((tool) => tool.name === 'createTodo')!
  assert.deepEqual(create.inputSchema.required, ['title'])
  assert.deepEqual(create.inputSchema.properties.due, { anyOf: [{ type: 'string', format: 'date' }, { type: 'null' }] })
  assert.equal(create.outputSchema.properties.createdBy.description, 'Who added it')
  const replace = tools.find((tool) => tool.name === 'replaceTodo')!
  assert.ok('path_id' in replace.inputSchema.properties && 'body_id' in replace.inputSchema.properties)
})

test('calls return structured results, and the API\'s hook sees who calls', async () => {
  const created = await call('http', ALICE, 'createTodo', 'title=Buy milk', 'tags=["home"]')
  assert.equal(created.code, 0, created.stderr)
  assert.equal(created.json.structuredContent.title, 'Buy milk')
  assert.equal(created.json.structuredContent.createdBy, 'alice')
  const fetched = await call('http', ALICE, 'getTodo', `id=${String(created.json.structuredContent.id)}`)
  assert.equal(fetched.code, 0, fetched.stderr)
  assert.deepEqual(fetched.json.structuredContent, created.json.structuredContent)
  const listed = await call('sse', BOB, 'listTodos', 'tag=home')
  assert.equal(listed.code, 0, listed.stderr)
  assert.deepEqual(listed.json.structuredContent.result.map((todo: { title: string }) => todo.title), ['Buy milk'])
})

test('bad arguments are refused before the route runs', async () => {
  const seen = store.requestsSeen
  const run = await call('http', ALICE, 'getTodo', 'id=0')
  assert.equal(run.code, TOOL_ERROR)
  assert.match(run.json.content[0].text, /\/id must be >= 1/)
  assert.equal(store.requestsSeen, seen)
})

test('the API\'s hook refuses a reader\'s write; 404 and 500 are tool errors', async () => {
  const refused = await call('sse', BOB, 'createTodo', 'title=Sneaky')
  assert.equal(refused.code, TOOL_ERROR)
  assert.equal(refused.json.content[0].text, 'POST /api/todos answered 403 Forbidden: {"message":"bob may only read to-dos"}')
  const missing = await call('http', ALICE, 'getTodo', 'id=999')
  assert.equal(missing.code, TOOL_ERROR)
  assert.match(missing.json.content[0].text, /answered 404 Not Found: \{"message":"No to-do 999"\}/)
  const failed = await call('http', ALICE, 'todoStats')
  assert.equal(failed.code, TOOL_ERROR)
  assert.match(failed.json.content[0].text, /answered 500 Internal Server Error: .*statistics service is unreachable/)
})

test('without a token the inspector is refused', async () => {
  const run = await inspector('http', undefined, '--method', 'tools/list')
  assert.equal(run.code, AUTH_MISSING, run.stderr)
})
