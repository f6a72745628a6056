import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { planRoute } from '../../plugin/bridge/route-plan.js'
import { fillRoutePath, parseRoutePath } from '../../plugin/bridge/route-path.js'

function plan (method: string, url: string, schema: Record<string, unknown> = {}, mcp: unknown = true): ReturnType<typeof planRoute> {
  return planRoute({ method, url, schema, config: { mcp }, constraints: undefined, streamingOption: undefined, sharedSchemas: () => ({}) }, [], {})
}

const NAMES: Array<[string, string, Record<string, unknown>, unknown, string]> = [
  ['GET', '/todos', {}, true, 'get_todos'],
  ['GET', '/todos/:id', {}, true, 'get_todos_by_id'],
  ['GET', '/todos/:id/comments', {}, true, 'get_todos_by_id_comments'],
  ['POST', '/api/v1/todos', {}, true, 'post_api_v1_todos'],
  ['GET', '/', {}, true, 'get_root'],
  ['GET', '/files/*', {}, true, 'get_files_by_path'],
  ['GET', '/:file.:ext', {}, true, 'get_by_file_by_ext'],
  ['GET', '/users/:id(^\\d+)/posts', {}, true, 'get_users_by_id_posts'],
  ['DELETE', '/todo-lists/:listId?', {}, true, 'delete_todo_lists_by_listid'],
  ['GET', '/time/12::30', {}, true, 'get_time_12_30'],
  ['GET', '/todos', { operationId: 'listTodos' }, true, 'listTodos'],
  ['GET', '/todos', { operationId: 'todos.list v2' }, true, 'todos.list_v2'],
  ['GET', '/todos', { operationId: '!!!' }, true, 'get_todos'],
  ['GET', '/todos', { operationId: 'listTodos' }, { name: 'todo_list' }, 'todo_list']
]

describe('tool names', () => {
  for (const [method, url, schema, mcp, name] of NAMES) {
    test(`${method} ${url}${schema.operationId === undefined ? '' : ` (operationId ${String(schema.operationId)})`}${mcp === true ? '' : ' with config.mcp.name'} → ${name}`, () => {
      assert.equal(plan(method, url, schema, mcp).name, name)
    })
  }

  test('a route for GET and HEAD is the GET tool', () => {
    const planned = planRoute({ method: ['GET', 'HEAD'], url: '/todos', schema: {}, config: { mcp: true }, constraints: undefined, streamingOption: undefined, sharedSchemas: () => ({}) }, [], {})
    assert.equal(planned.method, 'GET')
    assert.equal(planned.name, 'get_todos')
  })

  test('a very long URL still gives a name of at most 128 characters', () => {
    const name = plan('GET', `/${'segment/'.repeat(30)}end`).name
    assert.ok(name.length <= 128 && /^[a-z0-9_]+$/.test(name), name)
  })
})

const ANNOTATIONS: Array<[string, unknown, Record<string, unknown>]> = [
  ['GET', true, { readOnlyHint: true }],
  ['POST', true, { readOnlyHint: false }],
  ['PATCH', true, { readOnlyHint: false }],
  ['PUT', true, { readOnlyHint: false, idempotentHint: true }],
  ['DELETE', true, { readOnlyHint: false, destructiveHint: true, idempotentHint: true }],
  ['DELETE', { annotations: { destructiveHint: false, title: 'Archive' } }, { readOnlyHint: false, destructiveHint: false, idempotentHint: true, title: 'Archive' }],
  ['POST', { annotations: { readOnlyHint: true, openWorldHint: false } }, { readOnlyHint: true, openWorldHint: false }]
]

describe('annotations from the method, unless the route says otherwise', () => {
  for (const [method, mcp, expected] of ANNOTATIONS) {
    test(`${method}${mcp === true ? '' : ` with ${JSON.stringify(mcp)}`}`, () => {
      assert.deepEqual(plan(method, '/x', {}, mcp).annotations, expected)
    })
  }
})

describe('title and description', () => {
  const TEXTS: Array<[string, Record<string, unknown>, unknown, { title: string | undefined, description: string }]> = [
    ['summary and description', { summary: 'List to-dos', description: 'All to-dos, newest first' }, true, { title: 'List to-dos', description: 'All to-dos, newest first' }],
    ['a summary alone is both', { summary: 'List to-dos' }, true, { title: 'List to-dos', description: 'List to-dos' }],
    ['a description alone', { description: 'All to-dos' }, true, { title: undefined, description: 'All to-dos' }],
    ['config.mcp wins', { summary: 'S', description: 'D' }, { title: 'T', description: 'For the model' }, { title: 'T', description: 'For the model' }],
    ['nothing: the method and URL', {}, true, { title: undefined, description: 'GET /x' }]
  ]
  for (const [label, schema, mcp, expected] of TEXTS) {
    test(label, () => {
      const planned = plan('GET', '/x', schema, mcp)
      assert.deepEqual({ title: planned.title, description: planned.description }, expected)
    })
  }

  test('scopes and timeoutMs are carried to the plan', () => {
    const planned = plan('POST', '/deploy', {}, { scopes: ['deploy:write'], timeoutMs: 1500 })
    assert.deepEqual(planned.scopes, ['deploy:write'])
    assert.equal(planned.timeoutMs, 1500)
  })
})

describe('filling a URL pattern for a call', () => {
  const FILLS: Array<[string, Record<string, unknown>, string]> = [
    ['/todos/:id', { id: 7 }, '/todos/7'],
    ['/todos/:id', { id: 'a b/c?d' }, '/todos/a%20b%2Fc%3Fd'],
    ['/files/*', { '*': 'docs/read me.md' }, '/files/docs/read%20me.md'],
    ['/:file.:ext', { file: 'report', ext: 'pdf' }, '/report.pdf'],
    ['/users/:id(^\\d+)/posts', { id: 42 }, '/users/42/posts'],
    ['/lists/:id?', {}, '/lists'],
    ['/lists/:id?', { id: 3 }, '/lists/3'],
    ['/time/12::30', {}, '/time/12:30'],
    ['/:a-:b', { a: 'x', b: 'y' }, '/x-y']
  ]
  for (const [pattern, values, url] of FILLS) {
    test(`${pattern} with ${JSON.stringify(values)} → ${url}`, () => {
      assert.equal(fillRoutePath(parseRoutePath(pattern), values), url)
    })
  }
})
