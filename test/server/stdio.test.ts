import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connectStdio } from '../helpers/clients.js'
import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { REPO_ROOT, runServer } from '../helpers/spawn-server.js'
import { INITIALIZE_PARAMS, rpc } from '../helpers/raw-http.js'
import { PACKAGE_VERSION } from '../../plugin/version.js'
import { closed, exitWithin, SERVER_ENTRY, TOOLS_FIXTURE, waitFor } from './support.js'

test('the SDK client over stdio lists and calls the built-in server_status tool', async (t) => {
  const client = await connectStdio(t, process.execPath, [SERVER_ENTRY, '--transport', 'stdio'])
  assert.deepEqual(client.getServerVersion(), { name: 'fastify-mcp-host', version: PACKAGE_VERSION })
  const { tools } = await client.listTools()
  assert.deepEqual(tools.map((tool) => tool.name), ['server_status'])
  const result = await client.callTool({ name: 'server_status', arguments: {} })
  const status = result.structuredContent as Record<string, any>
  assert.equal(status.transport, 'stdio')
  assert.deepEqual(status.transports, { stdio: true })
  assert.equal(status.caller, null)
})

test('the SDK client over stdio calls the tools of a --tools module', async (t) => {
  const client = await connectStdio(t, process.execPath, [SERVER_ENTRY, '--transport', 'stdio', '--tools', TOOLS_FIXTURE])
  const sum = await client.callTool({ name: 'add', arguments: { a: 20, b: 22 } })
  assert.deepEqual(sum.structuredContent, { sum: 42 })
  const who = await client.callTool({ name: 'whoami', arguments: {} })
  assert.deepEqual(who.structuredContent, { identity: null, transport: 'stdio', sessionId: null })
  const failed = await client.callTool({ name: 'fail', arguments: {} })
  assert.equal(failed.isError, true)
})

test('MCP_TRANSPORT=stdio selects stdio like the flag does', async (t) => {
  const client = await connectStdio(t, process.execPath, [SERVER_ENTRY], { MCP_TRANSPORT: 'stdio' })
  const { tools } = await client.listTools()
  assert.deepEqual(tools.map((tool) => tool.name), ['server_status'])
})

test('over stdio, stdout carries only JSON-RPC lines, even when a tool calls console.log', async (t) => {
  const run = runServer(t, ['--transport', 'stdio', '--tools', TOOLS_FIXTURE, '--log-level', 'debug'])
  const stdin = run.child.stdin!
  stdin.write(`${JSON.stringify(rpc('initialize', INITIALIZE_PARAMS, 1))}\n`)
  stdin.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`)
  stdin.write(`${JSON.stringify(rpc('tools/list', {}, 2))}\n`)
  stdin.write(`${JSON.stringify(rpc('tools/call', { name: 'chatty', arguments: {} }, 3))}\n`)
  stdin.write('this is not JSON\n')
  await waitFor('four answers on stdout', () => run.stdout().split('\n').length > 4 ? true : undefined)
  stdin.end()
  assert.equal(await exitWithin(closed(run.child), 5_000), 0)

  const lines = run.stdout().split('\n')
  assert.equal(lines.pop(), '', 'stdout ends with a newline')
  const messages = lines.map((line) => JSON.parse(line) as { jsonrpc: string, id: unknown, result?: any, error?: any })
  for (const message of messages) assert.equal(message.jsonrpc, '2.0')
  const byId = new Map(messages.map((message) => [message.id, message]))
  assert.deepEqual([...byId.keys()].map(String).sort(), ['1', '2', '3', 'null'])
  assert.deepEqual(byId.get(3)?.result.content, [{ type: 'text', text: 'said something' }])
  assert.equal(byId.get(null)?.error.code, -32700)
  assert.match(run.stderr(), /chatty was called/)
  assert.match(run.stderr(), /MCP server on stdio/)
})

/** Sends initialize and a scribbler call over stdin, closes it, and returns stdout and stderr once the process ended. */
async function scribble (child: ChildProcess, out: () => string): Promise<string[]> {
  child.stdin!.write(`${JSON.stringify(rpc('initialize', INITIALIZE_PARAMS, 1))}\n`)
  child.stdin!.write(`${JSON.stringify(rpc('tools/call', { name: 'scribbler', arguments: {} }, 2))}\n`)
  await waitFor('two answers on stdout', () => out().split('\n').length > 2 ? true : undefined)
  child.stdin!.end()
  assert.equal(await exitWithin(closed(child), 5_000), 0)
  const lines = out().split('\n')
  assert.equal(lines.pop(), '', 'stdout ends with a newline')
  return lines
}

test('over stdio, nothing but JSON-RPC reaches stdout when a tools module writes to process.stdout itself', async (t) => {
  const run = runServer(t, ['--transport', 'stdio', '--tools', join(REPO_ROOT, 'dist', 'test', 'fixtures', 'stdout-tools.js')])
  const lines = await scribble(run.child, run.stdout)
  const messages = lines.map((line) => JSON.parse(line) as { id: number, result?: any })
  assert.deepEqual(messages.map((message) => message.id), [1, 2])
  assert.deepEqual(messages[1].result.content, [{ type: 'text', text: 'scribbled' }])
  for (const text of ['stdout-tools loaded', 'scribbled a string', 'scribbled bytes', 'scribbled with a callback', 'scribbled as latin1', 'scribbled with console.log', 'a table', 'dir']) {
    assert.match(run.stderr(), new RegExp(text), `"${text}" went to stderr`)
  }
})

test('the library\'s serveStdio with its default streams keeps a tool\'s process.stdout writes off stdout too', async (t) => {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'dist', 'test', 'fixtures', 'stdio-library.js')], { stdio: ['pipe', 'pipe', 'pipe'] })
  t.after(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  let out = ''
  let err = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { out += chunk })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { err += chunk })
  const lines = await scribble(child, () => out)
  assert.deepEqual(lines.map((line) => JSON.parse(line).id), [1, 2])
  assert.match(err, /scribbled a string[^]*scribbled with console.log/)
})

test('the stdio server exits 0 when stdin closes', async (t) => {
  const run = runServer(t, ['--transport', 'stdio'])
  await waitFor('the start-up log', () => run.stderr().includes('MCP server on stdio') ? true : undefined)
  run.child.stdin!.end()
  assert.equal(await exitWithin(closed(run.child), 5_000), 0)
  assert.equal(run.stdout(), '')
})

test('the stdio server answers a call in flight before it exits on end of stdin', async (t) => {
  const run = runServer(t, ['--transport', 'stdio', '--tools', TOOLS_FIXTURE])
  run.child.stdin!.end(`${JSON.stringify(rpc('tools/call', { name: 'slow', arguments: { ms: 300 } }, 'late'))}\n`)
  assert.equal(await exitWithin(closed(run.child), 5_000), 0)
  const answer = JSON.parse(run.stdout())
  assert.equal(answer.id, 'late')
  assert.deepEqual(answer.result.content, [{ type: 'text', text: 'waited 300 ms' }])
})
