import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { promisify } from 'node:util'
import { REPO_ROOT } from '../helpers/spawn-server.js'

const DIST = join(REPO_ROOT, 'dist')
/** The bridge's working parts; only its collector and request decoration may load without a marked route. */
const HEAVY = ['bridge-setup', 'route-plan', 'route-call', 'route-tool', 'schema-merge', 'schema-refs', 'output-schema', 'tool-naming']

/** Our files reachable from `entry` through static imports (an `import()` is not followed). */
function staticGraph (entry: string): string[] {
  const files = new Set<string>()
  const queue = [entry]
  for (let file = queue.pop(); file !== undefined; file = queue.pop()) {
    if (files.has(file)) continue
    files.add(file)
    const source = readFileSync(file, 'utf8')
    for (const match of source.matchAll(/^\s*(?:import|export)\s[^'";]*?\sfrom\s*['"](\.[^'"]+)['"]/gm)) queue.push(resolve(dirname(file), match[1]))
  }
  return [...files].map((file) => relative(DIST, file))
}

test('the plugin\'s static imports reach the bridge\'s collector, never its working parts; stdio reaches none of it', () => {
  const plugin = staticGraph(join(DIST, 'plugin', 'index.js'))
  assert.ok(plugin.includes('plugin/bridge/route-collector.js'), 'the walk follows the imports (sanity check)')
  assert.deepEqual(plugin.filter((file) => HEAVY.some((name) => file === `plugin/bridge/${name}.js`)), [])
  assert.deepEqual(staticGraph(join(DIST, 'server', 'stdio.js')).filter((file) => file.startsWith('plugin/bridge/')), [])
})

async function loadsOf (dir: string, args: string[]): Promise<string[]> {
  const record = join(dir, `loads-${args.length}.txt`)
  const { stdout } = await promisify(execFile)(process.execPath, [`--import=${join(DIST, 'test', 'fixtures', 'record-loads.js')}`, join(DIST, 'test', 'fixtures', 'bridge-app.js'), '--run', ...args],
    { env: { ...process.env, RECORD_LOADS_FILE: record }, timeout: 30_000 })
  assert.equal(stdout.trim(), '200 200', 'the app answered (sanity check)')
  return readFileSync(record, 'utf8').split('\n').filter((line) => line.includes('/dist/plugin/bridge/'))
}

test('an app with no marked route never loads the bridge\'s working parts; one marked route does', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-bridge-loads-'))
  t.after(() => { rmSync(dir, { recursive: true, force: true }) })
  const unmarked = await loadsOf(dir, [])
  assert.ok(unmarked.some((line) => line.endsWith('/route-collector.js')), 'the hooks saw the collector (sanity check)')
  assert.deepEqual(unmarked.filter((line) => HEAVY.some((name) => line.endsWith(`/${name}.js`))), [])
  const marked = await loadsOf(dir, ['--marked'])
  assert.ok(marked.some((line) => line.endsWith('/bridge-setup.js')))
})
