import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import * as Installed from 'typebox'
import { Compile as InstalledCompile } from 'typebox/schema'
import * as Vendored from '../../plugin/protocol/typebox-runtime.js'
import { REPO_ROOT } from '../helpers/spawn-server.js'

// The build replaces dist/plugin/protocol/typebox-runtime.js with a bundle of TypeBox (scripts/bundle-typebox.mjs).
const bundle = readFileSync(join(REPO_ROOT, 'dist/plugin/protocol/typebox-runtime.js'), 'utf8')

/** `typebox` exports no ./package.json: read the one above the entry point Node resolves. */
function installedVersion (): string {
  let dir = dirname(createRequire(join(REPO_ROOT, 'package.json')).resolve('typebox'))
  while (!existsSync(join(dir, 'package.json')) && dir !== dirname(dir)) dir = dirname(dir)
  return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version
}

/** The names plugin/protocol/typebox-runtime.ts exports, read from its source. */
function sourceExports (): string[] {
  const source = readFileSync(join(REPO_ROOT, 'plugin/protocol/typebox-runtime.ts'), 'utf8')
  return [...source.matchAll(/^export \{([^}]+)\} from/gm)].flatMap((match) => match[1].split(',').map((name) => name.trim())).sort()
}

test('the vendored TypeBox runtime says it is generated, and from the installed typebox version', () => {
  const [first] = bundle.split('\n')
  assert.match(first, /^\/\/ GENERATED FILE, vendored typebox@\S+ .*scripts\/bundle-typebox\.mjs\. Do not edit\.$/)
  assert.equal(first.match(/typebox@(\S+)/)?.[1], installedVersion(), 'rebuild: npm run build')
})

test('the vendored TypeBox runtime is one self-contained file with exactly the exports its source lists', () => {
  assert.doesNotMatch(bundle, /\bfrom ['"]|\bimport\(|\brequire\(/, 'it imports nothing')
  assert.deepEqual(Object.keys(Vendored).sort(), sourceExports())
})

test('the vendored builders make the same schemas as the installed typebox, and its compiler judges alike', () => {
  const build = (Type: typeof Vendored) => Type.Object({
    name: Type.String({ minLength: 1 }),
    count: Type.Optional(Type.Integer({ minimum: 0, maximum: 9, default: 1 })),
    flag: Type.Boolean(),
    mode: Type.Union([Type.Literal('a'), Type.Literal('b')]),
    tags: Type.Array(Type.String({ pattern: '^[a-z]+$' }), { minItems: 1 })
  }, { additionalProperties: false })
  const vendored = build(Vendored)
  assert.deepEqual(vendored, build(Installed as unknown as typeof Vendored))
  const ours = Vendored.Compile(vendored)
  const theirs = InstalledCompile(vendored)
  for (const value of [
    { name: 'x', flag: true, mode: 'a', tags: ['ok'] },
    { name: 'x', count: 3, flag: false, mode: 'b', tags: ['ok', 'fine'] },
    { name: '', flag: true, mode: 'a', tags: ['ok'] },
    { name: 'x', count: 10, flag: true, mode: 'a', tags: ['ok'] },
    { name: 'x', flag: 'yes', mode: 'c', tags: [] },
    { name: 'x', flag: true, mode: 'a', tags: ['NO'], extra: 1 },
    null
  ]) {
    assert.equal(ours.Check(value), theirs.Check(value), JSON.stringify(value))
    assert.deepEqual([...ours.Errors(value)[1]].map((error) => error.instancePath), [...theirs.Errors(value)[1]].map((error) => error.instancePath))
  }
})
