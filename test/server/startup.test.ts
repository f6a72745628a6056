import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnServer, runServer } from '../helpers/spawn-server.js'
import { post, rpc } from '../helpers/raw-http.js'
import { closed, exitWithin, holdPort } from './support.js'

test('without a token, --host 0.0.0.0 refuses to start before binding: exit 1 and how to make a token', async (t) => {
  // The port is held on loopback: had the server tried to bind 0.0.0.0 on it, it would have failed with EADDRINUSE.
  const port = await holdPort(t)
  const run = runServer(t, ['--host', '0.0.0.0', '--port', String(port)])
  assert.equal(await exitWithin(closed(run.child), 10_000), 1)
  assert.match(run.stderr(), /Refusing to serve 0\.0\.0\.0 without a token/)
  assert.match(run.stderr(), /node server generate-key/)
  assert.match(run.stderr(), /MCP_TOKEN/)
  assert.doesNotMatch(run.stderr() + run.stdout(), /EADDRINUSE|in use|listening/i)
})

test('HOST=0.0.0.0 without a token is refused like the flag', async (t) => {
  const run = runServer(t, [], { HOST: '0.0.0.0', PORT: String(await holdPort(t)) })
  assert.equal(await exitWithin(closed(run.child), 10_000), 1)
  assert.match(run.stderr(), /generate-key/)
})

test('--no-auth on 127.0.0.1 serves MCP without a token and warns that auth is off', async (t) => {
  const server = await spawnServer(t, ['--no-auth', '--host', '127.0.0.1'])
  const response = await post(`${server.baseUrl}/mcp`, rpc('tools/list'))
  assert.equal(response.status, 200)
  assert.deepEqual(response.json.result.tools.map((tool: { name: string }) => tool.name), ['server_status'])
  assert.match(server.stdout(), /Auth is off \(--no-auth\)/)
  assert.doesNotMatch(server.stderr(), /No MCP_TOKEN was given/, 'no token is generated')
})

test('--no-auth together with MCP_TOKEN is refused as a contradiction', async (t) => {
  const run = runServer(t, ['--no-auth'], { MCP_TOKEN: 'some-token' })
  assert.equal(await exitWithin(closed(run.child), 10_000), 1)
  assert.match(run.stderr(), /--no-auth contradicts MCP_TOKEN/)
})

for (const [args, env, message] of [
  [['--port', 'abc'], {}, /--port must be a whole number from 0 to 65535, got "abc"/],
  [[], { PORT: '70000' }, /PORT must be a whole number from 0 to 65535, got "70000"/],
  [['--transport', 'carrier-pigeon'], {}, /--transport must be one of http, stdio, got "carrier-pigeon"/],
  [['--log-level', 'loud'], {}, /--log-level must be one of fatal, error, warn, info, debug, trace, silent/],
  [['--colour', 'blue'], {}, /Unknown option '--colour'[\s\S]*Usage: node server/],
  [[], { MCP_TOKEN_FILE: '/nonexistent/tokens.txt' }, /Cannot read MCP_TOKEN_FILE "\/nonexistent\/tokens.txt"/],
  [['--tools', 'nonexistent-tools.js'], { MCP_TOKEN: 'some-token' }, /Cannot load the tools module "nonexistent-tools.js" \(--tools \/ MCP_TOOLS\)/]
] as Array<[string[], Record<string, string>, RegExp]>) {
  test(`node server ${[...args, ...Object.entries(env).map(([k, v]) => `${k}=${v}`)].join(' ')} exits 1 with a clear message`, async (t) => {
    const run = runServer(t, args, env)
    assert.equal(await exitWithin(closed(run.child), 10_000), 1)
    assert.match(run.stderr(), message)
    assert.doesNotMatch(run.stderr(), /^\s+at /m, 'no stack trace')
    assert.equal(run.stdout(), '')
  })
}

test('a port already in use exits 1 with a one-line reason', async (t) => {
  const port = await holdPort(t)
  const run = runServer(t, ['--port', String(port)], { MCP_TOKEN: 'some-token' })
  assert.equal(await exitWithin(closed(run.child), 10_000), 1)
  assert.match(run.stderr(), new RegExp(`Cannot listen on 127\\.0\\.0\\.1:${port}: the port is in use`))
  assert.doesNotMatch(run.stderr(), /^\s+at /m, 'no stack trace')
})

test('generate-key prints one base64url key of at least 43 characters, new on every run', async (t) => {
  const keys: string[] = []
  for (let i = 0; i < 2; i++) {
    const run = runServer(t, ['generate-key'])
    assert.equal(await exitWithin(closed(run.child), 10_000), 0)
    assert.match(run.stdout(), /^[A-Za-z0-9_-]{43,}\n$/)
    assert.equal(run.stderr(), '')
    keys.push(run.stdout().trim())
  }
  assert.notEqual(keys[0], keys[1])
})

test('--help prints the usage with every variable and exits 0', async (t) => {
  const run = runServer(t, ['--help'])
  assert.equal(await exitWithin(closed(run.child), 10_000), 0)
  for (const name of ['--transport', '--host', '--port', '--tools', '--no-auth', 'MCP_TOKEN', 'MCP_TOKEN_FILE', 'generate-key']) {
    assert.ok(run.stdout().includes(name), name)
  }
})
