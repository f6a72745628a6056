import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { Type } from 'typebox'
import { planRoute } from '../../plugin/bridge/route-plan.js'
import type { CollectedRoute } from '../../plugin/bridge/route-collector.js'
import type { SharedSchemas } from '../../plugin/bridge/schema-refs.js'
import { SchemaProblem } from '../../plugin/bridge/schema-problem.js'

interface RouteStub {
  method?: string | string[]
  url: string
  schema?: Record<string, unknown>
  config?: unknown
  constraints?: unknown
  streamingOption?: string
}

function route (stub: RouteStub): CollectedRoute {
  return {
    method: stub.method ?? 'GET',
    url: stub.url,
    schema: stub.schema,
    config: stub.config ?? { mcp: true },
    constraints: stub.constraints,
    streamingOption: stub.streamingOption,
    sharedSchemas: () => ({})
  }
}

function plan (stub: RouteStub, shared: SharedSchemas = {}, forwarded: string[] = []): ReturnType<typeof planRoute> {
  return planRoute(route(stub), forwarded, shared)
}

const TODO = {
  $id: 'Todo',
  type: 'object',
  properties: {
    id: { type: 'integer', description: 'The to-do\'s number' },
    title: { type: 'string', minLength: 1 },
    done: { type: 'boolean', default: false }
  },
  required: ['id', 'title']
}

const COMMON = {
  $id: 'Common',
  definitions: {
    tag: { type: 'string', enum: ['home', 'work'] },
    tags: { type: 'array', items: { $ref: '#/definitions/tag' }, uniqueItems: true }
  }
}

const URL_TODO = {
  $id: 'http://example.com/schemas/todo.json',
  type: 'object',
  properties: { owner: { $ref: 'user.json' } }
}
const URL_USER = { $id: 'http://example.com/schemas/user.json', type: 'object', properties: { name: { type: 'string' } }, required: ['name'] }

const SHARED: SharedSchemas = { Todo: TODO, Common: COMMON, [URL_TODO.$id]: URL_TODO, [URL_USER.$id]: URL_USER }

interface MergeCase {
  label: string
  route: RouteStub
  forwarded?: string[]
  input: Record<string, unknown>
  /** argument → "part:field" */
  targets?: Record<string, string>
}

const MERGES: MergeCase[] = [
  {
    label: 'no schemas at all: an empty object that takes nothing else',
    route: { url: '/todos' },
    input: { type: 'object', properties: {}, additionalProperties: false }
  },
  {
    label: 'URL parameters without a params schema are required strings',
    route: { url: '/users/:user/todos/:id' },
    input: { type: 'object', properties: { user: { type: 'string' }, id: { type: 'string' } }, required: ['user', 'id'], additionalProperties: false },
    targets: { user: 'params:user', id: 'params:id' }
  },
  {
    label: 'params, querystring and body side by side, each with its full schema',
    route: {
      method: 'POST',
      url: '/lists/:list/todos',
      schema: {
        params: { type: 'object', properties: { list: { type: 'integer', minimum: 1, description: 'List number' } } },
        querystring: { type: 'object', properties: { notify: { type: 'boolean', default: true } } },
        body: { type: 'object', properties: { title: { type: 'string', format: 'uri', maxLength: 20 } }, required: ['title'] }
      }
    },
    input: {
      type: 'object',
      properties: {
        list: { type: 'integer', minimum: 1, description: 'List number' },
        notify: { type: 'boolean', default: true },
        title: { type: 'string', format: 'uri', maxLength: 20 }
      },
      required: ['list', 'title'],
      additionalProperties: false
    },
    targets: { list: 'params:list', notify: 'querystring:notify', title: 'body:title' }
  },
  {
    label: 'a name in two parts is renamed in both, each saying where it goes',
    route: {
      method: 'PUT',
      url: '/todos/:id',
      schema: {
        params: { type: 'object', properties: { id: { type: 'integer' } } },
        body: { type: 'object', properties: { id: { type: 'integer', description: 'Must match' }, title: { type: 'string' } }, required: ['id'] }
      }
    },
    input: {
      type: 'object',
      properties: {
        path_id: { type: 'integer', description: 'Path parameter "id"' },
        body_id: { type: 'integer', description: 'Body field "id": Must match' },
        title: { type: 'string' }
      },
      required: ['path_id', 'body_id'],
      additionalProperties: false
    },
    targets: { path_id: 'params:id', body_id: 'body:id', title: 'body:title' }
  },
  {
    label: 'a query parameter and a body field of the same name',
    route: {
      method: 'POST',
      url: '/search',
      schema: {
        querystring: { type: 'object', properties: { limit: { type: 'integer' } }, required: ['limit'] },
        body: { type: 'object', properties: { limit: { type: 'string' } } }
      }
    },
    input: {
      type: 'object',
      properties: {
        query_limit: { type: 'integer', description: 'Query parameter "limit"' },
        body_limit: { type: 'string', description: 'Body field "limit"' }
      },
      required: ['query_limit'],
      additionalProperties: false
    }
  },
  {
    label: 'a required field with a default may be left out',
    route: { url: '/todos', schema: { querystring: { type: 'object', properties: { limit: { type: 'integer', default: 20 }, q: { type: 'string' } }, required: ['limit', 'q'] } } },
    input: { type: 'object', properties: { limit: { type: 'integer', default: 20 }, q: { type: 'string' } }, required: ['q'], additionalProperties: false }
  },
  {
    label: 'a body that is a shared schema ($ref with #) is spread, its $id dropped',
    route: { method: 'POST', url: '/todos', schema: { body: { $ref: 'Todo#' } } },
    input: {
      type: 'object',
      properties: { id: { type: 'integer', description: 'The to-do\'s number' }, title: { type: 'string', minLength: 1 }, done: { type: 'boolean', default: false } },
      required: ['id', 'title'],
      additionalProperties: false
    }
  },
  {
    label: 'a $ref to part of a shared schema, with a description beside it',
    route: { url: '/todos', schema: { querystring: { type: 'object', properties: { title: { $ref: 'Todo#/properties/title', description: 'Search text' } } } } },
    input: { type: 'object', properties: { title: { type: 'string', minLength: 1, description: 'Search text' } }, additionalProperties: false }
  },
  {
    label: 'a $ref inside a shared schema resolves within that schema',
    route: { url: '/todos', schema: { querystring: { type: 'object', properties: { tags: { $ref: 'Common#/definitions/tags' } } } } },
    input: { type: 'object', properties: { tags: { type: 'array', items: { type: 'string', enum: ['home', 'work'] }, uniqueItems: true } }, additionalProperties: false }
  },
  {
    label: 'URL ids, and a relative $ref resolved against the schema it appears in',
    route: { method: 'POST', url: '/todos', schema: { body: { $ref: 'http://example.com/schemas/todo.json' } } },
    input: {
      type: 'object',
      properties: { owner: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } },
      additionalProperties: false
    }
  },
  {
    label: 'a local $ref into the route\'s own definitions',
    route: {
      method: 'POST',
      url: '/todos',
      schema: { body: { type: 'object', definitions: { due: { type: 'string', format: 'date' } }, properties: { due: { $ref: '#/definitions/due' } } } }
    },
    input: { type: 'object', properties: { due: { type: 'string', format: 'date' } }, additionalProperties: false }
  },
  {
    label: 'a $ref to an $anchor',
    route: { method: 'POST', url: '/todos', schema: { body: { type: 'object', $defs: { p: { $anchor: 'priority', type: 'string', enum: ['low', 'high'] } }, properties: { priority: { $ref: '#priority' } } } } },
    input: { type: 'object', properties: { priority: { type: 'string', enum: ['low', 'high'] } }, additionalProperties: false }
  },
  {
    label: 'nested objects and arrays of objects keep every keyword',
    route: {
      method: 'POST',
      url: '/orders',
      schema: {
        body: {
          type: 'object',
          properties: {
            address: { type: 'object', properties: { city: { type: 'string' }, zip: { type: 'string', pattern: '^[0-9]{5}$' } }, required: ['city'], additionalProperties: false },
            lines: { type: 'array', minItems: 1, items: { type: 'object', properties: { sku: { type: 'string' }, qty: { type: 'integer', exclusiveMinimum: 0 } }, required: ['sku'] } }
          },
          required: ['lines']
        }
      }
    },
    input: {
      type: 'object',
      properties: {
        address: { type: 'object', properties: { city: { type: 'string' }, zip: { type: 'string', pattern: '^[0-9]{5}$' } }, required: ['city'], additionalProperties: false },
        lines: { type: 'array', minItems: 1, items: { type: 'object', properties: { sku: { type: 'string' }, qty: { type: 'integer', exclusiveMinimum: 0 } }, required: ['sku'] } }
      },
      required: ['lines'],
      additionalProperties: false
    }
  },
  {
    label: 'enums and lists of scalars in the query string',
    route: {
      url: '/todos',
      schema: { querystring: { type: 'object', properties: { status: { type: 'string', enum: ['open', 'done'], description: 'Filter' }, ids: { type: 'array', items: { type: 'integer' } } } } }
    },
    input: {
      type: 'object',
      properties: { status: { type: 'string', enum: ['open', 'done'], description: 'Filter' }, ids: { type: 'array', items: { type: 'integer' } } },
      additionalProperties: false
    }
  },
  {
    label: 'nullable (OpenAPI style) becomes a null type, a null enum value, or anyOf null',
    route: {
      method: 'PATCH',
      url: '/todos/:id',
      schema: {
        body: {
          type: 'object',
          properties: {
            note: { type: 'string', nullable: true },
            color: { type: 'string', enum: ['red', 'blue'], nullable: true },
            todo: { $ref: 'Todo#', nullable: true, description: 'Replacement' },
            size: { oneOf: [{ type: 'string' }, { type: 'integer' }], nullable: true, description: 'Either' },
            plain: { type: 'string', nullable: false }
          }
        }
      }
    },
    input: {
      type: 'object',
      properties: {
        id: { type: 'string' },
        note: { type: ['string', 'null'] },
        color: { type: ['string', 'null'], enum: ['red', 'blue', null] },
        todo: {
          type: ['object', 'null'],
          properties: { id: { type: 'integer', description: 'The to-do\'s number' }, title: { type: 'string', minLength: 1 }, done: { type: 'boolean', default: false } },
          required: ['id', 'title'],
          description: 'Replacement'
        },
        size: { anyOf: [{ oneOf: [{ type: 'string' }, { type: 'integer' }] }, { type: 'null' }], description: 'Either' },
        plain: { type: 'string' }
      },
      required: ['id'],
      additionalProperties: false
    }
  },
  {
    label: 'a body that is not a plain object (a list) is one argument, "body"',
    route: { method: 'POST', url: '/todos/bulk', schema: { body: { type: 'array', items: { $ref: 'Todo' } } } },
    input: {
      type: 'object',
      properties: { body: { type: 'array', items: { type: 'object', properties: { id: { type: 'integer', description: 'The to-do\'s number' }, title: { type: 'string', minLength: 1 }, done: { type: 'boolean', default: false } }, required: ['id', 'title'] } } },
      required: ['body'],
      additionalProperties: false
    },
    targets: { body: 'body:' }
  },
  {
    label: 'a body built with allOf is kept whole, so no constraint is lost',
    route: { method: 'POST', url: '/todos', schema: { body: { allOf: [{ type: 'object', properties: { a: { type: 'string' } } }, { required: ['a'] }] } } },
    input: {
      type: 'object',
      properties: { body: { allOf: [{ type: 'object', properties: { a: { type: 'string' } } }, { required: ['a'] }] } },
      required: ['body'],
      additionalProperties: false
    }
  },
  {
    label: 'a body that takes any other fields lets unlisted arguments through',
    route: { method: 'POST', url: '/notes', schema: { body: { type: 'object', properties: { text: { type: 'string' } }, additionalProperties: { type: 'string' } } } },
    input: { type: 'object', properties: { text: { type: 'string' } }, additionalProperties: { type: 'string' } }
  },
  {
    label: 'headers become arguments only when the route opts in (names lower-cased)',
    route: {
      url: '/reports',
      config: { mcp: { headers: true } },
      schema: { headers: { type: 'object', properties: { 'X-Tenant': { type: 'string', enum: ['a', 'b'] } }, required: ['X-Tenant'] } }
    },
    input: { type: 'object', properties: { 'x-tenant': { type: 'string', enum: ['a', 'b'] } }, required: ['x-tenant'], additionalProperties: false },
    targets: { 'x-tenant': 'headers:x-tenant' }
  },
  {
    label: 'without the opt-in, a header the plugin forwards needs no argument',
    route: { url: '/reports', schema: { headers: { type: 'object', properties: { 'accept-language': { type: 'string' } }, required: ['accept-language'] } } },
    forwarded: ['accept-language'],
    input: { type: 'object', properties: {}, additionalProperties: false }
  },
  {
    label: 'the wildcard is the argument "path"; an optional parameter is not required',
    route: { url: '/files/:bucket?/*' },
    input: { type: 'object', properties: { bucket: { type: 'string' }, path: { type: 'string' } }, additionalProperties: false },
    targets: { bucket: 'params:bucket', path: 'params:*' }
  },
  {
    label: 'the "query" alias, and a JSON body under content',
    route: {
      method: 'POST',
      url: '/x',
      schema: {
        query: { type: 'object', properties: { q: { type: 'string' } } },
        body: { content: { 'application/json': { schema: { type: 'object', properties: { b: { type: 'number' } } } } } }
      }
    },
    input: { type: 'object', properties: { q: { type: 'string' }, b: { type: 'number' } }, additionalProperties: false }
  },
  {
    label: 'TypeBox schemas come out as plain JSON Schema',
    route: { method: 'POST', url: '/t', schema: { body: Type.Object({ n: Type.Optional(Type.Number({ minimum: 0 })), s: Type.String() }) } },
    input: { type: 'object', properties: { n: { type: 'number', minimum: 0 }, s: { type: 'string' } }, required: ['s'], additionalProperties: false }
  }
]

describe('merging a route\'s schemas into one tool input', () => {
  for (const merge of MERGES) {
    test(merge.label, () => {
      const planned = plan(merge.route, SHARED, merge.forwarded)
      assert.deepEqual(planned.input.schema, merge.input)
      if (merge.targets !== undefined) {
        const targets = Object.fromEntries(planned.input.targets.map((target) => [target.argument, `${target.part}:${target.field}`]))
        assert.deepEqual(targets, merge.targets)
      }
    })
  }

  test('the merged schema is JSON all the way down (no symbols, no $id left)', () => {
    const planned = plan({ method: 'POST', url: '/todos/:id', schema: { body: Type.Object({ todo: Type.Ref('Todo') }) } }, SHARED)
    const text = JSON.stringify(planned.input.schema)
    assert.ok(!text.includes('$id') && !text.includes('$ref'), text)
    assert.deepEqual(JSON.parse(text), planned.input.schema)
  })
})

interface RefusalCase {
  label: string
  route: RouteStub
  message: RegExp
}

const REFUSALS: RefusalCase[] = [
  { label: 'a $ref to an id nobody added', route: { method: 'POST', url: '/x', schema: { body: { $ref: 'Nope#' } } }, message: /\$ref "Nope#" names no schema added with fastify\.addSchema\(\).*known: Todo/ },
  { label: 'a $ref to a path that does not exist', route: { method: 'POST', url: '/x', schema: { body: { $ref: 'Todo#/properties/nope' } } }, message: /points at nothing/ },
  {
    label: 'a recursive schema',
    route: { method: 'POST', url: '/x', schema: { body: { type: 'object', properties: { child: { $ref: '#' } } } } },
    message: /\$ref "#" is recursive/
  },
  { label: 'an object in the query string', route: { url: '/x', schema: { querystring: { type: 'object', properties: { f: { type: 'object', properties: {} } } } } }, message: /query parameter "f" is an object/ },
  { label: 'a path parameter of type object', route: { url: '/x/:p', schema: { params: { type: 'object', properties: { p: { type: 'object' } } } } }, message: /path parameter "p" must be a string, number or boolean/ },
  { label: 'a querystring schema that is not an object', route: { url: '/x', schema: { querystring: { anyOf: [{ type: 'object' }] } } }, message: /querystring schema must be an object schema.*built with "anyOf"/ },
  { label: 'a params schema requiring a name the URL lacks', route: { url: '/x/:a', schema: { params: { type: 'object', properties: { b: { type: 'string' } }, required: ['b'] } } }, message: /requires "b", which the URL \/x\/:a has no place for/ },
  { label: 'a required header neither an argument nor forwarded', route: { url: '/x', schema: { headers: { type: 'object', properties: { 'x-tenant': { type: 'string' } }, required: ['x-tenant'] } } }, message: /requires the header "x-tenant": set config\.mcp\.headers/ },
  { label: 'authorization as a tool argument', route: { url: '/x', config: { mcp: { headers: true } }, schema: { headers: { type: 'object', properties: { Authorization: { type: 'string' } } } } }, message: /header "Authorization" cannot be a tool argument: credentials/ },
  {
    label: 'two fields that end up with one argument name',
    route: { method: 'POST', url: '/x/:id', schema: { querystring: { type: 'object', properties: { path_id: { type: 'string' } } }, body: { type: 'object', properties: { id: { type: 'string' } } } } },
    message: /both become the argument "path_id"/
  },
  { label: 'several methods on one route', route: { method: ['GET', 'POST'], url: '/x' }, message: /several methods \(GET, POST\)/ },
  { label: 'a HEAD route', route: { method: 'HEAD', url: '/x' }, message: /HEAD reply has no body/ },
  { label: 'a websocket route', route: { url: '/x', streamingOption: 'websocket' }, message: /"websocket" option makes it stream/ },
  { label: 'route constraints', route: { url: '/x', constraints: { version: '1.2.0' } }, message: /route constraints \(version\)/ },
  { label: 'an event-stream reply', route: { url: '/x', schema: { response: { 200: { content: { 'text/event-stream': { schema: { type: 'string' } } } } } } }, message: /200 reply streams \(text\/event-stream\)/ },
  { label: 'a binary reply', route: { url: '/x', schema: { response: { 200: { content: { 'application/pdf': { schema: {} } } } } } }, message: /application\/pdf, which a tool result cannot carry/ },
  { label: 'a body that is not JSON', route: { method: 'POST', url: '/x', schema: { body: { content: { 'multipart/form-data': { schema: { type: 'object' } } } } } }, message: /JSON bodies only/ },
  { label: 'a misspelt config.mcp field', route: { url: '/x', config: { mcp: { nmae: 'x' } } }, message: /config\.mcp\.nmae is not an option/ },
  { label: 'a config.mcp field of the wrong type', route: { url: '/x', config: { mcp: { timeoutMs: -1 } } }, message: /config\.mcp\.timeoutMs must be a whole number/ },
  { label: 'an annotation that does not exist', route: { url: '/x', config: { mcp: { annotations: { destructive: true } } } }, message: /\.destructive is not an annotation/ },
  { label: 'a tool name outside the alphabet', route: { url: '/x', config: { mcp: { name: 'list todos' } } }, message: /config\.mcp\.name "list todos" must be 1-128 letters/ },
  { label: 'config.mcp of the wrong kind', route: { url: '/x', config: { mcp: 'yes' } }, message: /config\.mcp must be true or an object/ }
]

describe('routes the bridge refuses, saying why', () => {
  for (const refusal of REFUSALS) {
    test(refusal.label, () => {
      assert.throws(() => plan(refusal.route, SHARED), (error: unknown) => {
        assert.ok(error instanceof SchemaProblem, String(error))
        assert.match(error.message, refusal.message)
        return true
      })
    })
  }
})

interface OutputCase {
  label: string
  response: unknown
  kind: 'object' | 'wrapped' | 'undeclared'
  schema?: unknown
}

const TODO_INLINED = { type: 'object', properties: { id: { type: 'integer', description: 'The to-do\'s number' }, title: { type: 'string', minLength: 1 }, done: { type: 'boolean', default: false } }, required: ['id', 'title'] }

const OUTPUTS: OutputCase[] = [
  { label: 'an object schema is the output schema itself', response: { 200: { $ref: 'Todo#' } }, kind: 'object', schema: TODO_INLINED },
  {
    label: 'a list is wrapped under "result"',
    response: { 200: { type: 'array', items: { $ref: 'Todo#' } } },
    kind: 'wrapped',
    schema: { type: 'object', properties: { result: { type: 'array', items: TODO_INLINED } }, required: ['result'] }
  },
  { label: 'a string is wrapped', response: { '2xx': { type: 'string' } }, kind: 'wrapped', schema: { type: 'object', properties: { result: { type: 'string' } }, required: ['result'] } },
  {
    label: 'different objects for 200 and 201 are alternatives',
    response: { 201: { type: 'object', properties: { created: { type: 'boolean' } } }, 200: { type: 'object', properties: { ok: { type: 'boolean' } } }, 404: { type: 'object' } },
    kind: 'object',
    schema: { type: 'object', anyOf: [{ type: 'object', properties: { ok: { type: 'boolean' } } }, { type: 'object', properties: { created: { type: 'boolean' } } }] }
  },
  { label: 'the JSON schema of a content map', response: { 200: { description: 'ok', content: { 'application/json': { schema: { type: 'object', properties: { a: { type: 'number' } } } } } } }, kind: 'object', schema: { type: 'object', properties: { a: { type: 'number' } } } },
  { label: 'a text/plain reply is a wrapped string', response: { 200: { content: { 'text/plain': { schema: { type: 'string' } } } } }, kind: 'wrapped', schema: { type: 'object', properties: { result: { type: 'string' } }, required: ['result'] } },
  { label: 'a nullable object is wrapped (null cannot be structured content)', response: { 200: { type: 'object', nullable: true, properties: {} } }, kind: 'wrapped', schema: { type: 'object', properties: { result: { type: ['object', 'null'], properties: {} } }, required: ['result'] } },
  { label: 'no response schema', response: undefined, kind: 'undeclared' },
  { label: 'only error responses', response: { 404: { type: 'object' } }, kind: 'undeclared' },
  { label: '204 has no body whatever it says', response: { 204: { type: 'null' } }, kind: 'undeclared' },
  { label: 'a 2xx entry without any type says nothing', response: { 200: { description: 'Anything' } }, kind: 'undeclared' }
]

describe('the tool output from the route\'s 2xx response schemas', () => {
  for (const output of OUTPUTS) {
    test(output.label, () => {
      const planned = plan({ url: '/x', schema: output.response === undefined ? {} : { response: output.response } }, SHARED)
      assert.equal(planned.output.kind, output.kind)
      if (planned.output.kind !== 'undeclared') assert.deepEqual(planned.output.schema, output.schema)
    })
  }
})
