import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import ts from 'typescript'
import { REPO_ROOT } from '../helpers/spawn-server.js'

/** Each entry of package.json's exports map, by the name the README's Exports section gives it. */
const ENTRIES = {
  'fastify-mcp-host': 'dist/plugin/index.d.ts',
  'fastify-mcp-host/core': 'dist/plugin/core.d.ts',
  'fastify-mcp-host/stdio': 'dist/plugin/transports/stdio/stdio-server.d.ts'
} as const
type Entry = keyof typeof ENTRIES

/** What each built entry exports, values and types, as a user's compiler sees it. */
function declaredExports (): Record<Entry, string[]> {
  const files = Object.values(ENTRIES).map((file) => join(REPO_ROOT, file))
  const program = ts.createProgram(files, { noEmit: true, skipLibCheck: true })
  const checker = program.getTypeChecker()
  const result = {} as Record<Entry, string[]>
  for (const [entry, file] of Object.entries(ENTRIES) as Array<[Entry, string]>) {
    const source = program.getSourceFile(join(REPO_ROOT, file))
    assert.ok(source !== undefined, `${file} was not built`)
    const moduleSymbol = checker.getSymbolAtLocation(source)
    assert.ok(moduleSymbol !== undefined, `${file} is not a module`)
    result[entry] = checker.getExportsOfModule(moduleSymbol).map((symbol) => symbol.name).filter((name) => name !== 'default').sort()
  }
  return result
}

/** The names the README's Exports section lists per entry (a bullet per entry; the root's includes the core's). */
function documentedExports (): Record<Entry, string[]> {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8')
  const section = readme.slice(readme.indexOf('\n## Exports\n'), readme.indexOf('\n## ', readme.indexOf('\n## Exports\n') + 1))
  assert.ok(section.length > 20, 'README.md has an Exports section')
  const bullets = section.split('\n- ').slice(1)
  const result = {} as Record<Entry, string[]>
  for (const bullet of bullets) {
    const [entry, ...names] = [...bullet.matchAll(/`([^`]+)`/g)].map((match) => match[1])
    assert.ok(entry in ENTRIES, `an Exports bullet starts with ${entry}, which is no entry of the package`)
    result[entry as Entry] = names.filter((name) => /^[A-Za-z_]\w*$/.test(name))
  }
  const core = result['fastify-mcp-host/core'] ?? []
  result['fastify-mcp-host'] = [...new Set([...(result['fastify-mcp-host'] ?? []), ...core])]
  for (const entry of Object.keys(result) as Entry[]) result[entry].sort()
  return result
}

test('the README lists exactly what each package entry exports, values and types', () => {
  const declared = declaredExports()
  const documented = documentedExports()
  for (const entry of Object.keys(ENTRIES) as Entry[]) {
    const missing = declared[entry].filter((name) => !documented[entry].includes(name))
    const extra = documented[entry].filter((name) => !declared[entry].includes(name))
    assert.deepEqual({ entry, undocumented: missing, notExported: extra }, { entry, undocumented: [], notExported: [] })
  }
})

test('the root entry\'s default export is the plugin, also exported as mcpPlugin', async () => {
  const root = await import('../../plugin/index.js')
  assert.equal(typeof root.default, 'function')
  assert.equal(root.default, root.mcpPlugin)
})
