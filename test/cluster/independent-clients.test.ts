import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import { AUTH, startCluster, type TestCluster } from './support/cluster.js'
import { CLUSTER_TOKEN } from './support/replicas.js'

const run = promisify(execFile)
/** The first run downloads the packages from the npm registry (cached afterwards). */
const INSTALL_MS = 300_000

/** The path of `bin` in an npx environment of `packages` (installed on first use), to run it without npm in between. */
async function npxBin (packages: string[], bin: string): Promise<string> {
  const { stdout } = await run('npx', ['-y', ...packages.flatMap((name) => ['-p', name]), 'sh', '-c', `command -v ${bin}`], { timeout: INSTALL_MS })
  const path = stdout.trim().split('\n').at(-1) ?? ''
  assert.match(path, /\//, `npx found ${bin}`)
  return path
}

/** For each POST /messages that nginx passed on: did it reach a replica other than the one holding its stream? */
function relayedPosts (cluster: TestCluster): { total: number, relayed: number } {
  const owners = new Map<string, string>()
  for (const replica of cluster.replicas) {
    for (const line of replica.logs()) if (line.msg === 'SSE session opened') owners.set(String(line.sessionId), replica.address)
  }
  let total = 0
  let relayed = 0
  for (const match of cluster.nginx?.accessLog().matchAll(/"POST \/messages\?sessionId=([^ ]+) HTTP\/1\.1" 202 upstream=(\S+)/g) ?? []) {
    total++
    if (owners.get(match[1]) !== match[2]) relayed++
  }
  return { total, relayed }
}

test('independent clients over legacy SSE through nginx in front of three cluster replicas', async (t) => {
  const [inspector, node22, supergateway] = await Promise.all([
    npxBin(['node@22', '@modelcontextprotocol/inspector@2.12.0'], 'inspector'),
    npxBin(['node@22', '@modelcontextprotocol/inspector@2.12.0'], 'node'),
    npxBin(['supergateway'], 'supergateway')
  ])
  const cluster = await startCluster(t)
  const sseUrl = `${cluster.lbUrl}/sse`

  await t.test('the inspector CLI lists the tools and calls one, its messages posted to whichever replica nginx picks', async () => {
    const cli = async (...args: string[]): Promise<any> => {
      const { stdout } = await run(node22, [inspector, '--cli', sseUrl, '--transport', 'sse', '--header', `Authorization: ${AUTH.authorization}`, ...args], { timeout: 60_000 })
      return JSON.parse(stdout)
    }
    const before = relayedPosts(cluster).total
    const listed = await cli('--method', 'tools/list')
    assert.ok(listed.tools.some((tool: { name: string }) => tool.name === 'add'))
    const called = await cli('--method', 'tools/call', '--tool-name', 'add', '--tool-arg', 'a=2', 'b=40')
    assert.deepEqual(called.structuredContent, { sum: 42 })
    const posts = relayedPosts(cluster)
    assert.ok(posts.total - before >= 6, `the inspector posted its messages (${posts.total - before})`)
    assert.ok(posts.relayed > 0, 'some reached a replica without the stream and were relayed')
  })

  await t.test('supergateway (SSE to stdio) serves an SDK stdio client: lists, and 30 calls answered in order', async (t: TestContext) => {
    const client = new Client({ name: 'through-supergateway', version: '1.0.0' })
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [supergateway, '--sse', sseUrl, '--oauth2Bearer', CLUSTER_TOKEN, '--logLevel', 'none'],
      stderr: 'pipe'
    })
    await client.connect(transport)
    t.after(async () => { await client.close() })
    const before = relayedPosts(cluster)
    assert.ok((await client.listTools()).tools.some((tool) => tool.name === 'echo'))
    for (let index = 0; index < 30; index++) {
      const text = `through supergateway ${index}`
      assert.deepEqual((await client.callTool({ name: 'echo', arguments: { text } })).content, [{ type: 'text', text }])
    }
    const posts = relayedPosts(cluster)
    assert.ok(posts.total - before.total >= 31)
    assert.ok(posts.relayed - before.relayed >= 10, `most of its messages were relayed (${posts.relayed - before.relayed})`)
  })
})
