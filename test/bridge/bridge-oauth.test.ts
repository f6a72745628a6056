import { before, describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { useAuthorizationServer, type AuthorizationServer } from '../helpers/authorization-server.js'
import { registerPublicClient, type PublicClient } from '../helpers/oauth-tokens.js'
import { challengeParams, startOAuthApp, type OAuthApp } from '../helpers/oauth-app.js'
import { post, rpc } from '../helpers/raw-http.js'
import { openSse } from '../helpers/sse-client.js'

/** Routes bridged to tools in OAuth mode: `config.mcp.scopes` guards the tool like a tool definition's `scopes`. */

const authorizationServer = useAuthorizationServer()
let as: AuthorizationServer
let client: PublicClient

before(async () => {
  as = await authorizationServer()
  client = await registerPublicClient(as)
})

interface TodoApi extends OAuthApp {
  /** The to-dos the write route was run for (what reached the route, not what the tool was asked). */
  created: Array<{ title: string, by: string | undefined }>
}

/** The OAuth app with a small to-do API: a write route that needs `todo:write`, and a read route that needs nothing more. */
async function startTodoApi (t: TestContext): Promise<TodoApi> {
  const created: TodoApi['created'] = []
  const routes = (app: FastifyInstance): void => {
    app.post<{ Body: { title: string } }>('/api/todos', {
      config: { mcp: { scopes: ['todo:write'] } },
      schema: {
        operationId: 'createTodo',
        summary: 'Add a to-do',
        body: Type.Object({ title: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
        response: { 201: Type.Object({ title: Type.String(), createdBy: Type.String() }) }
      }
    }, async (request, reply) => {
      const by = request.mcpBridge?.auth?.id
      created.push({ title: request.body.title, by })
      return await reply.code(201).send({ title: request.body.title, createdBy: by ?? 'unknown' })
    })
    app.get('/api/todos', {
      config: { mcp: true },
      schema: { operationId: 'listTodos', response: { 200: Type.Object({ titles: Type.Array(Type.String()) }) } }
    }, async () => ({ titles: created.map((todo) => todo.title) }))
  }
  const app = await startOAuthApp(t, as.issuer, { oauth: { scopes: ['mcp:tools'] }, routes })
  return { ...app, created }
}

const create = (title: string, id = 1): Record<string, unknown> => rpc('tools/call', { name: 'createTodo', arguments: { title } }, id)
const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` })

describe('a bridged route with config.mcp.scopes in OAuth mode', () => {
  test('without the scope: 403 insufficient_scope naming every scope the call needs, and the route does not run', async (t) => {
    const api = await startTodoApi(t)
    const tokens = await client.authorize(api.resource, 'mcp:tools')
    const refused = await post(`${api.origin}/mcp`, create('Buy milk', 7), bearer(tokens.access_token))
    assert.equal(refused.status, 403, refused.text)
    const params = challengeParams(refused.headers.get('www-authenticate'))
    assert.equal(params.error, 'insufficient_scope')
    assert.equal(params.scope, 'mcp:tools todo:write')
    assert.equal(params.resource_metadata, `${api.origin}/.well-known/oauth-protected-resource/mcp`)
    assert.equal(refused.json.id, 7)
    assert.equal(refused.json.error.code, -32000)
    assert.match(refused.json.error.message, /tools\/call needs the scope todo:write.*authorize again with scope "mcp:tools todo:write"/)
    assert.deepEqual(api.created, [], 'the route never ran')
  })

  test('the client steps up with the scopes the challenge names; then the route runs and sees the caller', async (t) => {
    const api = await startTodoApi(t)
    const first = await client.authorize(api.resource, 'mcp:tools')
    const refused = await post(`${api.origin}/mcp`, create('Buy milk'), bearer(first.access_token))
    const stepped = await client.authorize(api.resource, challengeParams(refused.headers.get('www-authenticate')).scope)
    const accepted = await post(`${api.origin}/mcp`, create('Buy milk'), bearer(stepped.access_token))
    assert.equal(accepted.status, 200, accepted.text)
    assert.equal(accepted.json.result.isError, undefined, accepted.text)
    const who = `oauth|${as.issuer}|alice|${client.clientId}`
    assert.deepEqual(accepted.json.result.structuredContent, { title: 'Buy milk', createdBy: who })
    assert.deepEqual(api.created, [{ title: 'Buy milk', by: who }])
    // A route without scopes needs only what every request needs.
    const listed = await post(`${api.origin}/mcp`, rpc('tools/call', { name: 'listTodos', arguments: {} }), bearer(first.access_token))
    assert.deepEqual(listed.json.result.structuredContent, { titles: ['Buy milk'] })
  })

  test('a broader scope that implies todo:write passes too', async (t) => {
    const created: string[] = []
    const api = await startOAuthApp(t, as.issuer, {
      oauth: { scopeImplications: { admin: ['todo:write'] } },
      routes: (app) => {
        app.post('/todos', { config: { mcp: { name: 'createTodo', scopes: ['todo:write'] } } }, async () => { created.push('ran'); return { ok: true } })
      }
    })
    const call = rpc('tools/call', { name: 'createTodo', arguments: {} })
    const narrow = await client.authorize(api.resource, 'mcp:tools')
    assert.equal((await post(`${api.origin}/mcp`, call, bearer(narrow.access_token))).status, 403, 'neither todo:write nor a scope implying it')
    const tokens = await client.authorize(api.resource, 'admin')
    const response = await post(`${api.origin}/mcp`, call, bearer(tokens.access_token))
    assert.equal(response.status, 200, response.text)
    assert.deepEqual(created, ['ran'])
  })

  test('in the 2026-07-28 era the 403 comes from Mcp-Method and Mcp-Name, before the body is read', async (t) => {
    const api = await startTodoApi(t)
    const tokens = await client.authorize(api.resource, 'mcp:tools')
    const refused = await post(`${api.origin}/mcp`, '{not json', {
      ...bearer(tokens.access_token), 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'createTodo'
    })
    assert.equal(refused.status, 403)
    assert.equal(challengeParams(refused.headers.get('www-authenticate')).scope, 'mcp:tools todo:write')
  })

  test('over legacy SSE, the 403 comes on the POST to /messages, before its 202', async (t) => {
    const api = await startTodoApi(t)
    const tokens = await client.authorize(api.resource, 'mcp:tools')
    const sse = await openSse(t, api.origin, bearer(tokens.access_token))
    const refused = await sse.send(create('Sneaky', 3), bearer(tokens.access_token))
    assert.equal(refused.status, 403)
    assert.equal(challengeParams(refused.headers.get('www-authenticate')).error, 'insufficient_scope')
    assert.deepEqual(api.created, [])
  })

  test('tools/list shows the bridged tool to a caller without its scope (discovery is not access), and the metadata lists the scope', async (t) => {
    const api = await startTodoApi(t)
    const tokens = await client.authorize(api.resource, 'mcp:tools')
    const listed = await post(`${api.origin}/mcp`, rpc('tools/list'), bearer(tokens.access_token))
    assert.equal(listed.status, 200)
    const tools = listed.json.result.tools as Array<{ name: string, inputSchema: any }>
    assert.deepEqual(tools.map((tool) => tool.name), ['profile', 'read_notes', 'deploy', 'createTodo', 'listTodos'])
    const createTodo = tools.find((tool) => tool.name === 'createTodo')
    assert.deepEqual(createTodo?.inputSchema.required, ['title'], 'with the route\'s own schema')
    const metadata = await (await fetch(`${api.origin}/.well-known/oauth-protected-resource/mcp`)).json() as { scopes_supported: string[] }
    assert.ok(metadata.scopes_supported.includes('todo:write'), metadata.scopes_supported.join(' '))
  })
})
