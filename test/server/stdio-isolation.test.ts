import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { REPO_ROOT, runServer } from '../helpers/spawn-server.js'
import { rpc } from '../helpers/raw-http.js'
import { closed, exitWithin } from './support.js'

const DIST = join(REPO_ROOT, 'dist')
const OUR_HTTP_FILES = ['plugin/index.js', 'server/http.js']

/** Modules the stdio entry must never load: Fastify and its plugins, and Node's HTTP servers. */
function isHttpModule (specifier: string): boolean {
  return /^(node:)?(http|https|http2)$/.test(specifier) ||
    /^(fastify|fastify-plugin|@fastify\/.+|avvio|find-my-way|light-my-request)$/.test(specifier)
}

/** Static imports, re-exports and `import('literal')` of one compiled file. */
function importsOf (source: string): string[] {
  const patterns = [
    /^\s*(?:import|export)\s[^'";]*?\sfrom\s*['"]([^'"]+)['"]/gm,
    /^\s*import\s*['"]([^'"]+)['"]/gm,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g
  ]
  return patterns.flatMap((pattern) => [...source.matchAll(pattern)].map((match) => match[1]))
}

/** Every file of ours reachable from `entry` through relative imports, and every other specifier they name. */
function importGraph (entry: string): { files: Set<string>, external: Set<string> } {
  const files = new Set<string>()
  const external = new Set<string>()
  const queue = [entry]
  for (let file = queue.pop(); file !== undefined; file = queue.pop()) {
    if (files.has(file)) continue
    files.add(file)
    for (const specifier of importsOf(readFileSync(file, 'utf8'))) {
      if (specifier.startsWith('.')) queue.push(resolve(dirname(file), specifier))
      else external.add(specifier)
    }
  }
  return { files, external }
}

test('the static import graph of the stdio entry reaches no Fastify or HTTP module', () => {
  const { files, external } = importGraph(join(DIST, 'server', 'stdio.js'))
  const ours = [...files].map((file) => relative(DIST, file))
  assert.ok(ours.includes('plugin/transports/stdio/stdio-server.js'), 'the walk follows the imports (sanity check)')
  assert.ok(ours.includes('plugin/tools/tool-registry.js'), 'the walk follows the imports (sanity check)')
  for (const file of OUR_HTTP_FILES) assert.ok(!ours.includes(file), `the stdio entry reaches ${file}`)
  assert.deepEqual([...external].filter(isHttpModule), [])
})

test('a stdio run loads no Fastify or HTTP module, as recorded by module hooks', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-loads-'))
  t.after(() => { rmSync(dir, { recursive: true, force: true }) })
  const record = join(dir, 'loads.txt')
  const hook = join(DIST, 'test', 'fixtures', 'record-loads.js')
  const run = runServer(t, ['--transport', 'stdio'], { NODE_OPTIONS: `--import=${hook}`, RECORD_LOADS_FILE: record })
  run.child.stdin!.end(`${JSON.stringify(rpc('tools/call', { name: 'server_status', arguments: {} }))}\n`)
  assert.equal(await exitWithin(closed(run.child), 10_000), 0)
  assert.match(run.stdout(), /"transport":"stdio"/, 'the call was answered')

  const loaded = readFileSync(record, 'utf8').split('\n').filter((line) => line !== '')
  // `node server` runs the bundled entry (dist/server/bundle/, one chunk per transport); plain dist/ also counts.
  assert.ok(loaded.some((line) => /\/dist\/server\/(stdio\.js|bundle\/stdio-[^/]*\.js)$/.test(line)), 'the hooks saw the stdio entry (sanity check)')
  assert.ok(loaded.some((line) => line.startsWith('require ')), 'the hooks saw CommonJS loads (sanity check)')
  const offending = loaded.filter((line) => {
    const [, target] = line.split(' ')
    return isHttpModule(target) ||
      /\/node_modules\/(fastify|fastify-plugin|@fastify\/[^/]+|avvio|find-my-way|light-my-request)\//.test(target) ||
      OUR_HTTP_FILES.some((file) => target.endsWith(`/dist/${file}`)) ||
      /\/dist\/server\/bundle\/http-[^/]*\.js$/.test(target)
  })
  assert.deepEqual(offending, [])
})
