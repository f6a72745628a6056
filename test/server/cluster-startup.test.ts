import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { createServer, type Socket } from 'node:net'
import { join } from 'node:path'
import { REPO_ROOT, runServer, spawnServer } from '../helpers/spawn-server.js'
import { post, rpc } from '../helpers/raw-http.js'
import { closed, exitWithin, TOKEN } from './support.js'

const HOOK = join(REPO_ROOT, 'dist', 'test', 'fixtures', 'record-loads.js')
const SECRET = 'cluster-startup-request-state-secret'
const PASSWORD = 'hunter2-redis-password'

/** A file that the record-loads hooks fill with every module the server loads; removed when the test ends. */
function loadRecord (t: TestContext): { env: Record<string, string>, loaded: () => string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-cluster-loads-'))
  t.after(() => { rmSync(dir, { recursive: true, force: true }) })
  const file = join(dir, 'loads.txt')
  return {
    env: { NODE_OPTIONS: `--import=${HOOK}`, RECORD_LOADS_FILE: file },
    loaded: () => readFileSync(file, 'utf8').split('\n').filter((line) => line !== '')
  }
}

/** Loads of the Redis client or of our cluster code (the bundle's create-cluster chunk, or plain dist/). */
function clusterLoads (loaded: string[]): string[] {
  return loaded.filter((line) => {
    const target = line.split(' ')[1] ?? ''
    return /^ioredis$/.test(target) || /\/node_modules\/(ioredis|@ioredis\/[^/]+|redis-parser|cluster-key-slot)\//.test(target) ||
      /\/dist\/server\/bundle\/create-cluster-[^/]*\.js$/.test(target) || /\/dist\/plugin\/(cluster|redis)\//.test(target)
  })
}

test('with cluster mode off, node server serves HTTP without loading ioredis or any cluster code', async (t) => {
  const record = loadRecord(t)
  const server = await spawnServer(t, [], { MCP_TOKEN: TOKEN, ...record.env })
  const answer = await post(`${server.baseUrl}/mcp`, rpc('tools/call', { name: 'server_status', arguments: {} }), { authorization: `Bearer ${TOKEN}` })
  assert.equal(answer.status, 200)
  server.child.kill('SIGTERM')
  assert.equal(await exitWithin(closed(server.child), 15_000), 0)

  const loaded = record.loaded()
  assert.ok(loaded.some((line) => /\/dist\/server\/bundle\/http-[^/]*\.js$/.test(line)), 'the hooks saw the HTTP entry (sanity check)')
  assert.ok(loaded.some((line) => /\/node_modules\/fastify\//.test(line)), 'the hooks saw dependencies load (sanity check)')
  assert.deepEqual(clusterLoads(loaded), [])
})

/** A loopback port that accepts connections and never answers, like a hung Redis; closed when the test ends. */
async function silentPort (t: TestContext): Promise<number> {
  const sockets = new Set<Socket>()
  const server = createServer((socket) => { sockets.add(socket) })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(async () => {
    for (const socket of sockets) socket.destroy()
    await new Promise((resolve) => server.close(resolve))
  })
  return (server.address() as { port: number }).port
}

test('Redis unreachable at start: node server exits 1 with one line naming host and port, never the password', async (t) => {
  const port = await silentPort(t)
  const record = loadRecord(t)
  const run = runServer(t, ['--port', '0'], {
    MCP_TOKEN: TOKEN,
    MCP_REQUEST_STATE_SECRET: SECRET,
    MCP_REDIS_URL: `redis://mcp-user:${PASSWORD}@127.0.0.1:${port}/0`,
    ...record.env
  })
  // The held port accepts the TCP connection and never speaks Redis: the start-up check must give up by itself.
  assert.equal(await exitWithin(closed(run.child), 30_000), 1)
  const lines = run.stderr().split('\n').filter((line) => line !== '')
  assert.equal(lines.length, 1, run.stderr())
  assert.match(lines[0], new RegExp(`^Cannot reach Redis at 127\\.0\\.0\\.1:${port} \\(.+\\): start it, or correct the Redis URL\\.$`))
  assert.ok(!(run.stdout() + run.stderr()).includes(PASSWORD), 'the password appears nowhere')
  assert.ok(!(run.stdout() + run.stderr()).includes(SECRET), 'nor the request-state secret')
  assert.doesNotMatch(run.stdout(), /MCP server listening/)
  assert.ok(clusterLoads(record.loaded()).length > 0, 'cluster mode on loads the Redis client (the check above can see it)')
})

test('Redis refusing connections at start: the same one line, exit 1', async (t) => {
  // Nothing listens on a port closed again at once.
  const closedPort = await (async () => {
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const number = (server.address() as { port: number }).port
    await new Promise((resolve) => server.close(resolve))
    return number
  })()
  const run = runServer(t, ['--port', '0'], { MCP_TOKEN: TOKEN, MCP_REQUEST_STATE_SECRET: SECRET, MCP_REDIS_URL: `redis://:${PASSWORD}@127.0.0.1:${closedPort}` })
  assert.equal(await exitWithin(closed(run.child), 30_000), 1)
  assert.equal(run.stderr(), `Cannot reach Redis at 127.0.0.1:${closedPort} (connect ECONNREFUSED 127.0.0.1:${closedPort}): start it, or correct the Redis URL.\n`)
  assert.ok(!run.stdout().includes(PASSWORD))
})

test('cluster mode without MCP_REQUEST_STATE_SECRET is refused at start, before Redis is tried', async (t) => {
  const run = runServer(t, ['--port', '0'], { MCP_TOKEN: TOKEN, MCP_REDIS_URL: `redis://:${PASSWORD}@127.0.0.1:1` })
  assert.equal(await exitWithin(closed(run.child), 30_000), 1)
  const lines = run.stderr().split('\n').filter((line) => line !== '')
  assert.equal(lines.length, 1, run.stderr())
  assert.match(lines[0], /MCP_REQUEST_STATE_SECRET/)
  assert.ok(!run.stderr().includes(PASSWORD))
})
