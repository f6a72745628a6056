import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { Client as ModernClient } from '@modelcontextprotocol/client'
import { StdioClientTransport as ModernStdioTransport } from '@modelcontextprotocol/client/stdio'
import { connectStdio } from '../helpers/clients.js'
import { REPO_ROOT } from '../helpers/spawn-server.js'
import type { TestContext } from 'node:test'

const SERVER_ARGS = ['server', '--transport', 'stdio', '--tools', 'dist/test/fixtures/tools.js']

type Negotiation = 'auto' | 'legacy' | { pin: '2026-07-28' }

async function connectModern (t: TestContext, mode: Negotiation): Promise<ModernClient> {
  const client = new ModernClient({ name: 'era-test', version: '1.0.0' }, {
    versionNegotiation: { mode },
    capabilities: { elicitation: { form: {} } }
  })
  client.setRequestHandler('elicitation/create', async () => ({ action: 'accept', content: { name: 'Ada' } }))
  await client.connect(new ModernStdioTransport({ command: process.execPath, args: SERVER_ARGS, cwd: REPO_ROOT, stderr: 'pipe' }))
  t.after(async () => { await client.close() })
  return client
}

describe('both protocol eras on stdio', () => {
  test('the 2.x client in auto mode lands on the 2026-07-28 era', async (t) => {
    const client = await connectModern(t, 'auto')
    assert.equal(client.getProtocolEra(), 'modern')
    assert.equal(client.getNegotiatedProtocolVersion(), '2026-07-28')
    assert.equal(client.getServerVersion()?.name, 'fastify-mcp-host')
  })

  test('pinned to 2026-07-28 it lists and calls tools with every result shape', async (t) => {
    const client = await connectModern(t, { pin: '2026-07-28' })
    const { tools } = await client.listTools()
    assert.ok(tools.some((tool) => tool.name === 'add'))
    const sum = await client.callTool({ name: 'add', arguments: { a: 20, b: 22 } })
    assert.deepEqual(sum.structuredContent, { sum: 42 })
    const invalid = await client.callTool({ name: 'add', arguments: { a: 'x' } })
    assert.equal(invalid.isError, true)
    const thrown = await client.callTool({ name: 'fail', arguments: {} })
    assert.deepEqual(thrown.content, [{ type: 'text', text: 'the database is unreachable' }])
    await assert.rejects(client.callTool({ name: 'nope', arguments: {} }), /Unknown tool/)
  })

  test('an elicitation is answered through an input-required round in the modern era', async (t) => {
    const client = await connectModern(t, { pin: '2026-07-28' })
    const result = await client.callTool({ name: 'greet', arguments: {} })
    assert.deepEqual(result.content, [{ type: 'text', text: 'Hello, Ada!' }])
  })

  test('the same elicitation is a server-to-client request in the legacy era', async (t) => {
    const client = await connectModern(t, 'legacy')
    assert.equal(client.getProtocolEra(), 'legacy')
    const result = await client.callTool({ name: 'greet', arguments: {} })
    assert.deepEqual(result.content, [{ type: 'text', text: 'Hello, Ada!' }])
  })

  test('the 1.x client still initializes and calls tools on the same entry', async (t) => {
    const client = await connectStdio(t, process.execPath, SERVER_ARGS)
    const result = await client.callTool({ name: 'echo', arguments: { text: 'hi', times: 2 } })
    assert.deepEqual(result.content, [{ type: 'text', text: 'hihi' }])
  })
})
