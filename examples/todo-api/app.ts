/**
 * A small to-do API with its own auth, exposed to MCP clients by marking routes `config: { mcp: ... }`.
 * In your own app, import the plugin from 'fastify-mcp-host'; this example imports it from the source tree.
 */
import Fastify, { type FastifyInstance, type FastifyPluginAsync, type FastifyServerOptions } from 'fastify'
import { Type, type Static } from 'typebox'
import mcpPlugin, { type McpPluginOptions, type NamedToken } from '../../plugin/index.js'
import { TodoStore, type NewTodo as NewTodoInput, type Todo as TodoRecord } from './todo-store.js'

// Shared schemas, added once and referenced by id: the tools' schemas have them inlined.
const Todo = Type.Object({
  id: Type.Integer({ minimum: 1 }),
  title: Type.String({ minLength: 1, maxLength: 200, description: 'What to do' }),
  done: Type.Boolean(),
  priority: Type.Union([Type.Literal('low'), Type.Literal('normal'), Type.Literal('high')]),
  tags: Type.Array(Type.String()),
  due: Type.Union([Type.String({ format: 'date' }), Type.Null()], { description: 'Due date (YYYY-MM-DD), or null' }),
  createdBy: Type.String({ description: 'Who added it' })
}, { $id: 'Todo', additionalProperties: false })

const NewTodo = Type.Object({
  title: Type.String({ minLength: 1, maxLength: 200, description: 'What to do' }),
  priority: Type.Optional(Type.Union([Type.Literal('low'), Type.Literal('normal'), Type.Literal('high')], { default: 'normal' })),
  tags: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { maxItems: 10 })),
  due: Type.Optional(Type.Union([Type.String({ format: 'date' }), Type.Null()]))
}, { $id: 'NewTodo', additionalProperties: false })

const TodoId = Type.Object({ id: Type.Integer({ minimum: 1, description: 'The to-do\'s number' }) })
const ListQuery = Type.Object({
  done: Type.Optional(Type.Boolean({ description: 'Only finished (true) or open (false) to-dos' })),
  tag: Type.Optional(Type.String()),
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 })
})
const ErrorBody = Type.Object({ message: Type.String() })

/** Who may do what, by the identity the MCP auth established (or the API key for ordinary HTTP clients). */
const ROLES: Record<string, 'admin' | 'reader'> = { alice: 'admin', bob: 'reader' }

declare module 'fastify' {
  interface FastifyRequest {
    user: { name: string, role: 'admin' | 'reader' } | null
  }
}

function todoRoutes (store: TodoStore, apiKey: string): FastifyPluginAsync {
  return async function routes (api) {
    api.decorateRequest('user', null)

    // The API's own auth, for every route here. A tool call arrives with request.mcpBridge set by the plugin (it
    // cannot be forged over HTTP); everyone else needs the API key.
    api.addHook('onRequest', async (request, reply) => {
      store.requestsSeen++
      const caller = request.mcpBridge?.auth
      if (caller !== undefined) {
        const role = ROLES[caller.id]
        if (role === undefined) return await reply.code(403).send({ message: `${caller.id} has no role in this API` })
        if (role === 'reader' && request.method !== 'GET') return await reply.code(403).send({ message: `${caller.id} may only read to-dos` })
        request.user = { name: caller.id, role }
        return
      }
      if (request.headers['x-api-key'] === apiKey) {
        request.user = { name: 'api-key', role: 'admin' }
        return
      }
      return await reply.code(401).send({ message: 'Send x-api-key, or call through MCP' })
    })

    api.get<{ Querystring: Static<typeof ListQuery> }>('/todos', {
      config: { mcp: true },
      schema: { operationId: 'listTodos', summary: 'List to-dos', querystring: ListQuery, response: { 200: Type.Array(Type.Ref('Todo')) } }
    }, async (request) => store.list(request.query))

    api.get<{ Params: Static<typeof TodoId> }>('/todos/:id', {
      config: { mcp: true },
      schema: { operationId: 'getTodo', summary: 'Get one to-do', params: TodoId, response: { 200: Type.Ref('Todo'), 404: ErrorBody } }
    }, async (request, reply) => store.get(request.params.id) ?? await reply.code(404).send({ message: `No to-do ${request.params.id}` }))

    api.post<{ Body: NewTodoInput }>('/todos', {
      config: { mcp: { title: 'Add a to-do', description: 'Adds a to-do and returns it with its number' } },
      schema: { operationId: 'createTodo', body: Type.Ref('NewTodo'), response: { 201: Type.Ref('Todo') } }
    }, async (request, reply) => await reply.code(201).send(store.create(request.body, request.user?.name ?? 'unknown')))

    // The body repeats the id: the tool's arguments become path_id and body_id, so neither silently wins.
    api.put<{ Params: Static<typeof TodoId>, Body: TodoRecord }>('/todos/:id', {
      config: { mcp: true },
      schema: { operationId: 'replaceTodo', summary: 'Replace a to-do', params: TodoId, body: Type.Ref('Todo'), response: { 200: Type.Ref('Todo'), 400: ErrorBody } }
    }, async (request, reply) => {
      if (request.body.id !== request.params.id) return await reply.code(400).send({ message: 'The body\'s id must match the URL' })
      return store.replace(request.body)
    })

    api.delete<{ Params: Static<typeof TodoId> }>('/todos/:id', {
      config: { mcp: true },
      schema: { operationId: 'deleteTodo', summary: 'Delete a to-do', params: TodoId, response: { 204: Type.Null(), 404: ErrorBody } }
    }, async (request, reply) => store.delete(request.params.id) ? await reply.code(204).send() : await reply.code(404).send({ message: `No to-do ${request.params.id}` }))

    api.get('/stats', {
      config: { mcp: { description: 'Counts to-dos by state (backed by a statistics service)' } },
      schema: { operationId: 'todoStats', response: { 200: Type.Object({ open: Type.Integer(), done: Type.Integer() }) } }
    }, async () => { throw new Error('The statistics service is unreachable') })

    // Slow work that stops when the caller does: request.signal fires when the MCP call is cancelled or times out.
    api.post('/todos/export', {
      config: { mcp: { annotations: { readOnlyHint: true } } },
      schema: { operationId: 'exportTodos', summary: 'Export every to-do (slow)', response: { 200: Type.Object({ exported: Type.Integer() }) } }
    }, async (request) => {
      const run = { by: request.user?.name ?? 'unknown', aborted: false, finished: false }
      store.exports.push(run)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 30_000)
        request.signal.addEventListener('abort', () => { run.aborted = true; clearTimeout(timer); resolve() }, { once: true })
      })
      run.finished = true
      return { exported: store.list({ limit: 100 }).length }
    })

    // Not marked: never a tool.
    api.get('/audit', async () => ({ entries: [] }))
  }
}

export interface TodoAppOptions {
  /** MCP bearer tokens and the identities they stand for (alice is an admin, bob a reader). */
  tokens: NamedToken[]
  /** The key ordinary HTTP clients send in x-api-key. */
  apiKey: string
  logger?: FastifyServerOptions['logger']
  /** More plugin options (stateful sessions, forwarded headers...). */
  mcp?: Omit<McpPluginOptions, 'auth'>
}

export async function buildTodoApp (options: TodoAppOptions): Promise<{ app: FastifyInstance, store: TodoStore }> {
  const store = new TodoStore()
  const app = Fastify({ logger: options.logger ?? false })
  // Registered before the routes, so that it sees them (like @fastify/swagger).
  await app.register(mcpPlugin, { ...options.mcp, auth: { tokens: options.tokens } })
  app.addSchema(Todo)
  app.addSchema(NewTodo)
  await app.register(todoRoutes(store, options.apiKey), { prefix: '/api' })
  return { app, store }
}
