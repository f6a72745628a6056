import { dispatcherOf } from '../../plugin/host-internals.js'
import { test, describe, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { Type } from 'typebox'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import mcpPlugin, { defineTool, McpConfigError, type McpPluginOptions, type McpBridgeCall, type McpRouteOptions } from '../../plugin/index.js'
import { planRoute } from '../../plugin/bridge/route-plan.js'
import { createRouteTool } from '../../plugin/bridge/route-tool.js'
import { MAX_ERROR_BODY } from '../../plugin/bridge/route-call.js'
import { serveStdio } from '../../plugin/transports/stdio/stdio-server.js'
import { silentLogger } from '../../plugin/protocol/logger.js'
import type { CallEnv } from '../../plugin/protocol/call-env.js'
import { PassThrough } from 'node:stream'
import { once } from 'node:events'

const TOKEN = 'bridge-calls-token'

interface Started {
  app: FastifyInstance
  client: Client
  logs: Array<Record<string, any>>
  url: string
}

type Setup = (app: FastifyInstance) => void | Promise<void>

async function build (t: TestContext, setup: Setup, options: Partial<McpPluginOptions> = {}, server: FastifyServerOptions = {}): Promise<{ app: FastifyInstance, logs: Array<Record<string, any>> }> {
  const logs: Array<Record<string, any>> = []
  const app = Fastify({ ...server, logger: { level: 'info', stream: { write: (line: string) => { logs.push(JSON.parse(line)) } } } })
  t.after(async () => { await app.close() })
  await app.register(mcpPlugin, { auth: { tokens: [{ token: TOKEN, id: 'alice' }] }, ...options } as McpPluginOptions)
  await setup(app)
  return { app, logs }
}

async function start (t: TestContext, setup: Setup, options: Partial<McpPluginOptions> = {}, server: FastifyServerOptions = {}, headers: Record<string, string> = {}): Promise<Started> {
  const { app, logs } = await build(t, setup, options, server)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
  const client = new Client({ name: 'bridge-calls', version: '1.0.0' })
  await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${TOKEN}`, ...headers } } }))
  t.after(async () => { await client.close() })
  return { app, client, logs, url }
}

function textOf (result: unknown): string {
  return (result as { content: Array<{ text?: string }> }).content.map((item) => item.text ?? '').join('\n')
}

async function ready (t: TestContext, setup: Setup, options: Partial<McpPluginOptions> = {}): Promise<unknown> {
  const { app } = await build(t, setup, options)
  try {
    await app.ready()
  } catch (error) {
    return error
  }
  return undefined
}

describe('routes the bridge refuses at start-up', () => {
  test('two routes that would be one tool: the error names both', async (t) => {
    const error = await ready(t, (app) => {
      app.get('/todos', { config: { mcp: true }, schema: { operationId: 'todos' } }, async () => [])
      app.register(async (child) => {
        child.post('/todos', { config: { mcp: { name: 'todos' } } }, async () => ({}))
      }, { prefix: '/v2' })
    })
    assert.ok(error instanceof McpConfigError)
    assert.equal(error.code, 'MCP_ERR_BRIDGE_NAME')
    assert.equal(error.message, 'Route GET /todos and POST /v2/todos would both be the MCP tool "todos": give one of them another config.mcp.name (or operationId)')
  })

  test('a route named like a tool given to the plugin', async (t) => {
    const tool = defineTool({ name: 'status', description: 'x', input: Type.Object({}), handler: () => 'ok' })
    const error = await ready(t, (app) => { app.get('/status', { config: { mcp: { name: 'status' } } }, async () => ({})) }, { tools: [tool] })
    assert.ok(error instanceof McpConfigError)
    assert.match(error.message, /Route GET \/status and a tool given to the plugin would both be the MCP tool "status"/)
  })

  test('a route the bridge cannot express fails ready(), naming the route and why', async (t) => {
    const error = await ready(t, (app) => {
      app.get('/search', { config: { mcp: true }, schema: { querystring: { type: 'object', properties: { filter: { type: 'object' } } } } }, async () => [])
    })
    assert.ok(error instanceof McpConfigError)
    assert.equal(error.code, 'MCP_ERR_BRIDGE_ROUTE')
    assert.equal(error.message, 'Route GET /search is marked config.mcp but cannot be an MCP tool: query parameter "filter" is an object (or a list of lists), which a query string cannot carry')
  })

  test('a $ref to a schema nobody added', async (t) => {
    const error = await ready(t, (app) => {
      app.addSchema({ $id: 'Known', type: 'string' })
      app.post('/x', { config: { mcp: true }, schema: { body: { type: 'object', properties: { a: { type: 'string' } } }, response: { 200: { $ref: 'Unknown#' } } } }, async () => ({}))
    })
    // Fastify refuses the unknown $ref itself when it compiles the serializer, or the bridge does first: either names it.
    assert.ok(error instanceof Error)
    assert.match(error.message, /Unknown/)
  })

  test('credentials in bridge.forwardHeaders are refused at register', async (t) => {
    const app = Fastify()
    t.after(async () => { await app.close() })
    await assert.rejects(async () => { await app.register(mcpPlugin, { auth: false, bridge: { forwardHeaders: ['Authorization'] } }) },
      /bridge\.forwardHeaders cannot list "Authorization": credentials are never copied/)
  })
})

describe('which routes become tools', () => {
  test('marked routes in nested encapsulated plugins are found; unmarked and mcp: false ones are not', async (t) => {
    const { app, client } = await start(t, async (app) => {
      app.get('/top', { config: { mcp: true } }, async () => ({ where: 'top' }))
      app.get('/hidden', async () => ({}))
      app.get('/off', { config: { mcp: false } }, async () => ({}))
      await app.register(async (outer) => {
        outer.decorateRequest('scoped', 'outer')
        await outer.register(async (inner) => {
          inner.get('/deep/:id', { config: { mcp: true } }, async (request) => ({ id: (request.params as { id: string }).id }))
        }, { prefix: '/inner' })
      }, { prefix: '/outer' })
    })
    const names = (await client.listTools()).tools.map((tool) => tool.name).sort()
    assert.deepEqual(names, ['get_outer_inner_deep_by_id', 'get_top'])
    assert.deepEqual((await client.callTool({ name: 'get_outer_inner_deep_by_id', arguments: { id: 'x y' } })).structuredContent, { id: 'x y' })
    assert.deepEqual(app.mcp.bridgedTools(), [
      { name: 'get_top', method: 'GET', url: '/top' },
      { name: 'get_outer_inner_deep_by_id', method: 'GET', url: '/outer/inner/deep/:id' }
    ])
  })

  test('routes registered before the plugin are not seen, and start-up says so', async (t) => {
    const logs: Array<Record<string, any>> = []
    const app = Fastify({ logger: { level: 'info', stream: { write: (line: string) => { logs.push(JSON.parse(line)) } } } })
    t.after(async () => { await app.close() })
    app.get('/early', { config: { mcp: true } }, async () => ({}))
    await app.register(mcpPlugin, { auth: false })
    app.get('/late', { config: { mcp: true } }, async () => ({}))
    await app.ready()
    assert.deepEqual(app.mcp.bridgedTools().map((tool) => tool.url), ['/late'])
    assert.ok(logs.some((line) => /Routes registered before fastify-mcp-host are not seen by its route bridge/.test(line.msg)))
  })

  test('with the plugin registered first, start-up lists the bridged tools and warns of nothing', async (t) => {
    const { app, logs } = await build(t, (app) => { app.get('/one', { config: { mcp: true } }, async () => ({})) })
    assert.deepEqual(app.mcp.bridgedTools(), [], 'nothing before ready')
    await app.ready()
    assert.ok(!logs.some((line) => /registered before/.test(line.msg)))
    assert.deepEqual(logs.find((line) => /served as MCP tools/.test(line.msg))?.tools, ['get_one'])
  })

  test('a bridged tool can be removed at run time like any other', async (t) => {
    const { app, client } = await start(t, (app) => { app.get('/one', { config: { mcp: true } }, async () => ({})) })
    assert.equal(app.mcp.removeTool('get_one'), true)
    assert.deepEqual((await client.listTools()).tools, [])
  })

  test('config.mcp.scopes reaches the tool definition\'s scopes', () => {
    const plan = planRoute({ method: 'POST', url: '/deploy', schema: {}, config: { mcp: { scopes: ['deploy:write'] } }, constraints: undefined, streamingOption: undefined, sharedSchemas: () => ({}) }, [], {})
    const tool = createRouteTool(plan, { app: Fastify(), forwardHeaders: [] })
    assert.deepEqual(tool.scopes, ['deploy:write'])
    assert.equal(createRouteTool({ ...plan, scopes: undefined }, { app: Fastify(), forwardHeaders: [] }).scopes, undefined)
  })
})

/** A route that reports what it was given: identity, headers, address, params, query and body. */
function mirror (app: FastifyInstance, path: string, schema: Record<string, unknown> = {}, mcp: boolean | McpRouteOptions = true): void {
  app.route({
    method: (schema.body === undefined ? 'GET' : 'POST'),
    url: path,
    config: { mcp },
    schema,
    handler: async (request) => ({
      bridge: request.mcpBridge,
      headers: request.headers,
      ip: request.ip,
      params: request.params,
      query: request.query,
      body: request.body ?? null
    })
  })
}

describe('what a bridged route receives', () => {
  test('the caller in request.mcpBridge, never the MCP token or the protocol headers', async (t) => {
    const { client } = await start(t, (app) => { mirror(app, '/mirror') })
    const seen = (await client.callTool({ name: 'get_mirror', arguments: {} })).structuredContent as any
    assert.deepEqual({ ...seen.bridge, requestId: typeof seen.bridge.requestId }, { tool: 'get_mirror', auth: { id: 'alice' }, transport: 'streamable-http', requestId: 'number' })
    assert.equal(seen.headers.authorization, undefined)
    for (const name of Object.keys(seen.headers)) assert.ok(!name.startsWith('mcp-'), name)
    assert.deepEqual(Object.keys(seen.headers).sort(), ['accept', 'host', 'user-agent'])
  })

  test('allow-listed headers are copied from the MCP request; others are not', async (t) => {
    const { client } = await start(t, (app) => { mirror(app, '/mirror') }, { bridge: { forwardHeaders: ['Accept-Language', 'x-request-id'] } }, {},
      { 'accept-language': 'fr-CH', 'x-request-id': 'req-42', 'x-secret': 'nope', cookie: 'session=1' })
    const seen = (await client.callTool({ name: 'get_mirror', arguments: {} })).structuredContent as any
    assert.equal(seen.headers['accept-language'], 'fr-CH')
    assert.equal(seen.headers['x-request-id'], 'req-42')
    assert.equal(seen.headers['x-secret'], undefined)
    assert.equal(seen.headers.cookie, undefined)
  })

  test('the MCP client\'s address is the route\'s request.ip (a loopback-trusting hook is not fooled)', async (t) => {
    const { client } = await start(t, (app) => { mirror(app, '/mirror') }, {}, { trustProxy: true }, { 'x-forwarded-for': '203.0.113.7' })
    const seen = (await client.callTool({ name: 'get_mirror', arguments: {} })).structuredContent as any
    assert.equal(seen.ip, '203.0.113.7')
  })

  test('an MCP request whose address is gone or unknown gives a non-loopback request.ip; stdio keeps loopback', async (t) => {
    const { app } = await build(t, (app) => { mirror(app, '/mirror') })
    await app.ready()
    const ipFor = async (http: CallEnv['http'], transport: CallEnv['transport'] = 'sse'): Promise<string> => {
      const env: CallEnv = { transport, auth: undefined, session: undefined, log: silentLogger, http }
      const response = await dispatcherOf(app)!.handleRequest({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'get_mirror', arguments: {} } }, env) as any
      return response.result.structuredContent.ip
    }
    assert.equal(await ipFor({ headers: {}, ip: undefined }), '0.0.0.0')
    assert.equal(await ipFor({ headers: {}, ip: '198.51.100.4' }), '198.51.100.4')
    assert.equal(await ipFor(undefined, 'sse'), '0.0.0.0', 'a message relayed from another replica')
    assert.equal(await ipFor(undefined, 'stdio'), '127.0.0.1')
  })

  test('arguments land in the path (encoded), the query string (lists repeated), opted-in headers and the body', async (t) => {
    const { client } = await start(t, (app) => {
      mirror(app, '/files/:bucket/*', {
        querystring: { type: 'object', properties: { tags: { type: 'array', items: { type: 'string' } }, n: { type: 'integer' } } },
        headers: { type: 'object', properties: { 'x-tenant': { type: 'string' } } },
        body: { type: 'object', properties: { note: { type: 'string' } }, additionalProperties: true }
      }, { headers: true })
    })
    const seen = (await client.callTool({
      name: 'post_files_by_bucket_by_path',
      arguments: { bucket: 'b/1', path: 'docs/read me.txt', tags: ['a', 'b c'], n: 3, 'x-tenant': 'acme', note: 'hi', extra: 'kept' }
    })).structuredContent as any
    assert.deepEqual(seen.params, { bucket: 'b/1', '*': 'docs/read me.txt' })
    assert.deepEqual(seen.query, { tags: ['a', 'b c'], n: 3 })
    assert.equal(seen.headers['x-tenant'], 'acme')
    assert.deepEqual(seen.body, { note: 'hi', extra: 'kept' })
  })

  test('a body that is a list is sent whole', async (t) => {
    const { client } = await start(t, (app) => { mirror(app, '/bulk', { body: { type: 'array', items: { type: 'integer' } } }) })
    const seen = (await client.callTool({ name: 'post_bulk', arguments: { body: [1, 2, 3] } })).structuredContent as any
    assert.deepEqual(seen.body, [1, 2, 3])
  })

  test('with auth off, the route still learns it runs as a tool, with no identity', async (t) => {
    const { app } = await build(t, (app) => { mirror(app, '/mirror') }, { auth: false })
    await app.listen({ port: 0, host: '127.0.0.1' })
    const client = new Client({ name: 'x', version: '1' })
    await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${(app.server.address() as { port: number }).port}/mcp`)))
    t.after(async () => { await client.close() })
    const bridge = ((await client.callTool({ name: 'get_mirror', arguments: {} })).structuredContent as any).bridge as McpBridgeCall
    assert.equal(bridge.tool, 'get_mirror')
    assert.equal(bridge.auth, undefined)
  })

  test('over stdio (the app\'s dispatcher served with serveStdio) the route runs with transport stdio and no identity', async (t) => {
    const { app } = await build(t, (app) => { mirror(app, '/mirror/:id') })
    await app.ready()
    const input = new PassThrough()
    const output = new PassThrough()
    const server = serveStdio({ dispatcher: dispatcherOf(app)!, input, output, log: silentLogger })
    t.after(async () => { input.end(); await server.closed })
    input.write(`${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'get_mirror_by_id', arguments: { id: '7' } } })}\n`)
    const [line] = await once(output, 'data') as [Buffer]
    const seen = JSON.parse(line.toString()).result.structuredContent
    assert.deepEqual(seen.bridge, { tool: 'get_mirror_by_id', transport: 'stdio', requestId: 1 })
    assert.deepEqual(seen.params, { id: '7' })
  })

  test('request.mcpBridge is null for a network request whatever it sends, and for an inject made by the route', async (t) => {
    const { client, url } = await start(t, (app) => {
      app.get('/whoami', async (request) => ({ bridged: request.mcpBridge !== null }))
      app.get('/outer', { config: { mcp: true } }, async (request) => {
        const inner = await app.inject({ url: '/whoami' })
        return { outer: request.mcpBridge !== null, inner: inner.json().bridged }
      })
    })
    const direct = await fetch(`${url}/whoami`, { headers: { 'mcp-bridge': '{"tool":"x"}', authorization: `Bearer ${TOKEN}` } })
    assert.deepEqual(await direct.json(), { bridged: false })
    assert.deepEqual((await client.callTool({ name: 'get_outer', arguments: {} })).structuredContent, { outer: true, inner: false })
  })

  test('request.mcpBridge cannot be assigned or changed by the app', async (t) => {
    const { client } = await start(t, (app) => {
      app.get('/assign', { config: { mcp: true } }, async (request) => {
        const refused = (change: () => void): string | null => {
          try {
            change()
          } catch (error) {
            return (error as Error).name
          }
          return null
        }
        return {
          assign: refused(() => { (request as { mcpBridge: unknown }).mcpBridge = { tool: 'forged' } }),
          tool: refused(() => { (request.mcpBridge as { tool: string }).tool = 'forged' }),
          identity: refused(() => { (request.mcpBridge?.auth as { id: string }).id = 'admin' })
        }
      })
      app.get('/me', { config: { mcp: true } }, async (request) => ({ id: request.mcpBridge?.auth?.id }))
    })
    assert.deepEqual((await client.callTool({ name: 'get_assign', arguments: {} })).structuredContent, { assign: 'TypeError', tool: 'TypeError', identity: 'TypeError' })
    assert.deepEqual((await client.callTool({ name: 'get_me', arguments: {} })).structuredContent, { id: 'alice' })
  })
})

describe('how the route\'s answer comes back', () => {
  test('a route that outlives config.mcp.timeoutMs ends as a tool error, and its request is aborted', async (t) => {
    let aborted = false
    const { client } = await start(t, (app) => {
      app.get('/slow', { config: { mcp: { timeoutMs: 150 } } }, async (request) => {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 10_000)
          request.signal.addEventListener('abort', () => { aborted = true; clearTimeout(timer); resolve() })
        })
        return {}
      })
    })
    const result = await client.callTool({ name: 'get_slow', arguments: {} })
    assert.equal(result.isError, true)
    assert.match(textOf(result), /timed out after 150 ms/)
    const deadline = Date.now() + 3000
    // eslint-disable-next-line no-unmodified-loop-condition -- the route's abort listener sets it
    while (!aborted && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
    assert.equal(aborted, true)
  })

  const SHAPES: Array<{ label: string, schema?: Record<string, unknown>, reply: (reply: any) => unknown, expect: (result: any) => void }> = [
    {
      label: 'a list without a response schema is structured under "result"',
      reply: () => [1, 2],
      expect: (result) => { assert.deepEqual(result.structuredContent, { result: [1, 2] }) }
    },
    {
      label: 'text without a response schema is text',
      reply: (reply) => reply.type('text/plain').send('plain words'),
      expect: (result) => { assert.deepEqual(result, { content: [{ type: 'text', text: 'plain words' }] }) }
    },
    {
      label: 'text with a string response schema is structured under "result"',
      schema: { response: { 200: { type: 'string' } } },
      reply: (reply) => reply.type('text/plain').send('plain words'),
      expect: (result) => { assert.deepEqual(result.structuredContent, { result: 'plain words' }) }
    },
    {
      label: 'a body outside the response schema is a tool error',
      schema: { response: { 200: { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] } } },
      reply: (reply) => reply.type('application/json').send('{"n":"many"}'),
      expect: (result) => { assert.equal(result.isError, true); assert.match(textOf(result), /does not match its response schema: \/n must be integer/) }
    },
    {
      label: 'JSON that does not parse is a tool error',
      reply: (reply) => reply.type('application/json').send('{oops'),
      expect: (result) => { assert.equal(result.isError, true); assert.match(textOf(result), /not valid JSON: \{oops/) }
    },
    {
      label: 'a binary answer is a tool error',
      reply: (reply) => reply.type('image/png').send(Buffer.from([137, 80, 78, 71])),
      expect: (result) => { assert.equal(result.isError, true); assert.match(textOf(result), /answered image\/png, which the bridge cannot return/) }
    },
    {
      label: 'a redirect is a tool error with its status',
      reply: (reply) => reply.redirect('/elsewhere'),
      expect: (result) => { assert.equal(result.isError, true); assert.match(textOf(result), /answered 302 Found/) }
    },
    {
      label: 'a long error body is cut, saying how much was left out',
      reply: (reply) => reply.code(422).type('text/plain').send('x'.repeat(MAX_ERROR_BODY + 500)),
      expect: (result) => {
        assert.equal(result.isError, true)
        assert.equal(textOf(result), `GET /shape answered 422 Unprocessable Entity: ${'x'.repeat(MAX_ERROR_BODY)}… (500 more characters)`)
      }
    }
  ]
  for (const shape of SHAPES) {
    test(shape.label, async (t) => {
      const { client } = await start(t, (app) => { app.get('/shape', { config: { mcp: true }, schema: shape.schema ?? {} }, async (_request, reply) => await shape.reply(reply)) })
      shape.expect(await client.callTool({ name: 'get_shape', arguments: {} }))
    })
  }
})
