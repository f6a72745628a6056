import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify from 'fastify'
import { schemaCompilersOnFirstUse } from '../../server/schema-compilers.js'
import { REPO_ROOT, spawnServer } from '../helpers/spawn-server.js'
import { post, rpc } from '../helpers/raw-http.js'
import { TOKEN } from './support.js'

const COMPILER_PACKAGES = '(ajv|@fastify/ajv-compiler|@fastify/fast-json-stringify-compiler)'
/** A recorded load (`require <specifier>` or `import <url>`) of one of the compilers' packages. */
const ROUTE_SCHEMA_COMPILERS = new RegExp(`^require ${COMPILER_PACKAGES}(/|$)|/node_modules/${COMPILER_PACKAGES}/`)

test('node server answers MCP without loading Fastify\'s route-schema compilers (Ajv, fast-json-stringify)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-loads-'))
  t.after(() => { rmSync(dir, { recursive: true, force: true }) })
  const record = join(dir, 'loads.txt')
  const hook = join(REPO_ROOT, 'dist', 'test', 'fixtures', 'record-loads.js')
  const server = await spawnServer(t, [], { MCP_TOKEN: TOKEN, NODE_OPTIONS: `--import=${hook}`, RECORD_LOADS_FILE: record })

  const response = await post(`${server.baseUrl}/mcp`, rpc('tools/call', { name: 'server_status', arguments: {} }), { authorization: `Bearer ${TOKEN}` })
  assert.equal(response.status, 200)
  assert.equal(response.json.result.structuredContent.status, 'ok')

  const loaded = readFileSync(record, 'utf8').split('\n')
  assert.ok(loaded.some((line) => line.includes('/node_modules/fastify/')), 'the hooks saw Fastify load (sanity check)')
  assert.deepEqual(loaded.filter((line) => ROUTE_SCHEMA_COMPILERS.test(line)), [])
})

test('a route with a schema still gets Fastify\'s validation and serialization, loaded on first use', async (t) => {
  const app = Fastify({ schemaController: { compilersFactory: schemaCompilersOnFirstUse } })
  t.after(async () => { await app.close() })
  app.post('/items', {
    schema: {
      body: { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1 } } },
      response: { 200: { type: 'object', properties: { name: { type: 'string' } } } }
    }
  }, async (request) => ({ ...(request.body as object), secret: 'not in the response schema' }))
  const address = await app.listen({ host: '127.0.0.1', port: 0 })

  const ok = await post(`${address}/items`, { name: 'lamp' })
  assert.equal(ok.status, 200)
  assert.deepEqual(ok.json, { name: 'lamp' }, 'fast-json-stringify serialized by the response schema')

  const refused = await post(`${address}/items`, { name: '' })
  assert.equal(refused.status, 400)
  assert.match(refused.json.message, /body\/name must NOT have fewer than 1 characters/)
})
