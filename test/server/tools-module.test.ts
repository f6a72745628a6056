import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { connectHttp, connectStdio } from '../helpers/clients.js'
import { REPO_ROOT, runServer, spawnServer } from '../helpers/spawn-server.js'

/** The conformance fixture: a module whose default export is `{ tools, resources, prompts }`. */
const OBJECT_FIXTURE = join(REPO_ROOT, 'dist', 'test', 'conformance', 'fixture.js')
const SERVER_ENTRY = join(REPO_ROOT, 'server')
const TOKEN = 'tools-module-test-token'

/** Writes an ES module with the given source to a temporary directory removed when the test ends. */
async function moduleFile (t: TestContext, source: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mcp-tools-module-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  const file = join(dir, 'definitions.mjs')
  await writeFile(file, source)
  return file
}

/** Starts `node server --tools <file>` and resolves with what it printed to stderr when it refused to start. */
async function refusal (t: TestContext, file: string): Promise<string> {
  const run = runServer(t, ['--tools', file, '--port', '0'], { MCP_TOKEN: TOKEN })
  // 'close' comes once stderr is fully read, unlike 'exit'.
  const code = await new Promise<number | null>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`node server still runs after 10 s:\n${run.stderr()}`)) }, 10_000)
    run.child.once('close', (exitCode: number | null) => { clearTimeout(timer); resolve(exitCode) })
  })
  assert.equal(code, 1)
  return run.stderr()
}

test('node server serves the tools, resources and prompts of a module that exports { tools, resources, prompts }', async (t) => {
  const server = await spawnServer(t, ['--tools', OBJECT_FIXTURE], { MCP_TOKEN: TOKEN })
  const client = await connectHttp(t, `${server.baseUrl}/mcp`, TOKEN)
  const capabilities = client.getServerCapabilities()
  assert.ok(capabilities?.resources, 'the server announces resources')
  assert.ok(capabilities?.prompts, 'the server announces prompts')

  const { tools } = await client.listTools()
  assert.ok(tools.some((tool) => tool.name === 'test_simple_text'))
  const { resources } = await client.listResources()
  assert.ok(resources.some((resource) => resource.uri === 'test://static-text'))
  const { resourceTemplates } = await client.listResourceTemplates()
  assert.deepEqual(resourceTemplates.map((template) => template.uriTemplate), ['test://template/{id}/data'])
  const read = await client.readResource({ uri: 'test://template/123/data' })
  assert.deepEqual(JSON.parse((read.contents[0] as { text: string }).text), { id: '123', templateTest: true, data: 'Data for ID: 123' })
  const prompt = await client.getPrompt({ name: 'test_prompt_with_arguments', arguments: { arg1: 'a', arg2: 'b' } })
  assert.deepEqual(prompt.messages[0].content, { type: 'text', text: 'Prompt with arguments: arg1=\'a\', arg2=\'b\'' })
})

test('over stdio, node server serves the resources and prompts of an object export too', async (t) => {
  const client = await connectStdio(t, process.execPath, [SERVER_ENTRY, '--transport', 'stdio', '--tools', OBJECT_FIXTURE])
  const read = await client.readResource({ uri: 'test://static-text' })
  assert.deepEqual(read.contents, [{ uri: 'test://static-text', mimeType: 'text/plain', text: 'This is the content of the static text resource.' }])
  const { prompts } = await client.listPrompts()
  assert.ok(prompts.some((prompt) => prompt.name === 'test_simple_prompt'))
})

test('an object export may leave out tools: the server then serves none, not the built-in ones', async (t) => {
  const file = await moduleFile(t, 'export default { prompts: [{ name: "greet", description: "Says hello", handler: () => "Hello" }] }\n')
  const server = await spawnServer(t, ['--tools', file], { MCP_TOKEN: TOKEN })
  const client = await connectHttp(t, `${server.baseUrl}/mcp`, TOKEN)
  assert.deepEqual((await client.listTools()).tools, [])
  assert.deepEqual((await client.listPrompts()).prompts, [{ name: 'greet', description: 'Says hello' }])
})

test('a default export that is neither an array nor an object is refused with both accepted shapes', async (t) => {
  const stderr = await refusal(t, await moduleFile(t, 'export default 42\n'))
  assert.match(stderr, /must have a default export that is an array of tools.*or an object of arrays.*got number/)
})

test('a module without a default export is refused, saying so', async (t) => {
  const stderr = await refusal(t, await moduleFile(t, 'export const tools = []\n'))
  assert.match(stderr, /must have a default export that is an array of tools.*got no default export/)
})

test('an object export with an unknown key is refused, naming the key', async (t) => {
  const stderr = await refusal(t, await moduleFile(t, 'export default { tool: [] }\n'))
  assert.match(stderr, /has unknown keys \(tool\): it may hold only tools, resources and prompts/)
})

test('an object export whose list is not an array is refused, naming the list', async (t) => {
  const stderr = await refusal(t, await moduleFile(t, 'export default { tools: [], resources: {} }\n'))
  assert.match(stderr, /"resources" in the default export of the tools module ".*" must be an array, got an object/)
})

test('an empty object export is refused: it holds no tools, resources or prompts', async (t) => {
  const stderr = await refusal(t, await moduleFile(t, 'export default {}\n'))
  assert.match(stderr, /is an object without tools, resources or prompts/)
})
