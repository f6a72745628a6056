import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { spawnServer } from '../helpers/spawn-server.js'
import { connectHttp } from '../helpers/clients.js'
import { post, request, rpc } from '../helpers/raw-http.js'
import { TOOLS_FIXTURE, waitFor } from './support.js'

/** Calls the fixture `whoami` tool with a bearer token; the identity it reports, or the HTTP status on refusal. */
async function whoami (baseUrl: string, token: string): Promise<string | number> {
  const response = await post(`${baseUrl}/mcp`, rpc('tools/call', { name: 'whoami', arguments: {} }), { authorization: `Bearer ${token}` })
  return response.status === 200 ? response.json.result.structuredContent.identity : response.status
}

function tokenFile (t: TestContext, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-tokens-'))
  t.after(() => { rmSync(dir, { recursive: true, force: true }) })
  const file = join(dir, 'tokens.txt')
  writeFileSync(file, text)
  return file
}

test('each of two comma-separated MCP_TOKEN tokens is accepted as its own identity', async (t) => {
  const server = await spawnServer(t, ['--tools', TOOLS_FIXTURE], { MCP_TOKEN: 'first-token-aaaa, second-token-bbbb' })
  const first = await whoami(server.baseUrl, 'first-token-aaaa')
  const second = await whoami(server.baseUrl, 'second-token-bbbb')
  assert.match(String(first), /^token-[0-9a-f]{8}$/)
  assert.match(String(second), /^token-[0-9a-f]{8}$/)
  assert.notEqual(first, second)
  assert.equal(await whoami(server.baseUrl, 'first-token-aaaa,second-token-bbbb'), 401)
  assert.equal(await whoami(server.baseUrl, 'third-token-cccc'), 401)
})

test('MCP_TOKEN_FILE lines name identities, and tokens that share a name are one identity', async (t) => {
  const file = tokenFile(t, '# rotated on Monday\nalice alice-old-token\nalice  alice-new-token\n\nbob bob-token\nanonymous-token\n')
  const server = await spawnServer(t, ['--tools', TOOLS_FIXTURE], { MCP_TOKEN_FILE: file })
  assert.equal(await whoami(server.baseUrl, 'alice-old-token'), 'alice')
  assert.equal(await whoami(server.baseUrl, 'alice-new-token'), 'alice')
  assert.equal(await whoami(server.baseUrl, 'bob-token'), 'bob')
  assert.match(String(await whoami(server.baseUrl, 'anonymous-token')), /^token-[0-9a-f]{8}$/)
  assert.equal(await whoami(server.baseUrl, 'alice'), 401)
})

test('MCP_TOKEN and MCP_TOKEN_FILE work together', async (t) => {
  const file = tokenFile(t, 'carol carol-token\n')
  const server = await spawnServer(t, ['--tools', TOOLS_FIXTURE], { MCP_TOKEN: 'env-token', MCP_TOKEN_FILE: file })
  assert.equal(await whoami(server.baseUrl, 'carol-token'), 'carol')
  assert.match(String(await whoami(server.baseUrl, 'env-token')), /^token-/)
})

test('the logs name the caller\'s identity and never show a token', async (t) => {
  const file = tokenFile(t, 'alice alice-secret-token\n')
  const server = await spawnServer(t, ['--tools', TOOLS_FIXTURE], { MCP_TOKEN_FILE: file })
  const failed = await post(`${server.baseUrl}/mcp`, rpc('tools/call', { name: 'fail', arguments: {} }), { authorization: 'Bearer alice-secret-token' })
  assert.equal(failed.json.result.isError, true)
  await post(`${server.baseUrl}/mcp`, rpc('ping'), { authorization: 'Bearer wrong-secret-token' })
  await waitFor('the refusal in the log', () => server.stdout().includes('refused by bearer auth') ? true : undefined)
  const lines = server.stdout().split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Record<string, unknown>)
  const toolError = lines.find((line) => line.msg === 'Tool handler threw')
  assert.equal(toolError?.identity, 'alice')
  const call = lines.find((line) => line.msg === 'MCP call')
  assert.deepEqual([call?.identity, call?.tool, call?.outcome], ['alice', 'fail', 'tool_error'])
  assert.equal(call?.reqId, toolError?.reqId, 'the call\'s own lines and its call line share the request id')
  const everything = server.stdout() + server.stderr()
  assert.doesNotMatch(everything, /alice-secret-token|wrong-secret-token/)
})

test('without a token on loopback, the stderr banner shows a working token and a client configuration', async (t) => {
  const server = await spawnServer(t)
  // The banner goes to stderr before the "listening" log line goes to stdout, but the two pipes race.
  const banner = await waitFor('the banner', () => server.stderr().includes('For a fixed token') ? server.stderr() : undefined)
  const token = /^ {4}([A-Za-z0-9_-]{43,})$/m.exec(banner)?.[1]
  assert.ok(token !== undefined, `no token in the banner:\n${banner}`)
  assert.ok(banner.includes(`Streamable HTTP   ${server.baseUrl}/mcp`))
  assert.ok(banner.includes(`Legacy SSE        ${server.baseUrl}/sse`))
  assert.ok(banner.includes(`Health            ${server.baseUrl}/health`))
  assert.match(banner, /generate-key/)

  const json = /^ {4}\{$[\s\S]*?^ {4}\}$/m.exec(banner)?.[0]
  assert.ok(json !== undefined, `no client configuration in the banner:\n${banner}`)
  const config = JSON.parse(json)
  assert.deepEqual(config.mcpServers['fastify-mcp-host'], {
    type: 'http', url: `${server.baseUrl}/mcp`, headers: { Authorization: `Bearer ${token}` }
  })
  const client = await connectHttp(t, config.mcpServers['fastify-mcp-host'].url, token)
  const { tools } = await client.listTools()
  assert.deepEqual(tools.map((tool) => tool.name), ['server_status'])
  assert.equal((await post(`${server.baseUrl}/mcp`, rpc('ping'))).status, 401)
  assert.doesNotMatch(server.stdout(), new RegExp(token), 'the token is not logged')
})

test('/health and /health/sse answer without auth while /mcp requires it', async (t) => {
  const server = await spawnServer(t, [], { MCP_TOKEN: 'health-test-token' })
  const health = await request(`${server.baseUrl}/health`)
  assert.equal(health.status, 200)
  assert.equal(health.json.status, 'ok')
  const sse = await request(`${server.baseUrl}/health/sse`)
  assert.equal(sse.status, 200)
  assert.deepEqual(sse.json, { sessions: 0, maxSessions: 50, idleTimeoutMs: 1_800_000 })
  assert.equal((await post(`${server.baseUrl}/mcp`, rpc('ping'))).status, 401)
})
