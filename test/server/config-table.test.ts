import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { CONFIG_ROWS, type ConfigRow } from '../../server/config-rows.js'
import { defaultText, literalsOf, rowSchema } from '../../server/config-schema.js'
import { parseConfig } from '../../server/config.js'
import { flagText, usage } from '../../server/usage.js'
import { REPO_ROOT } from '../helpers/spawn-server.js'

const valueRows = CONFIG_ROWS.filter((row): row is Exclude<ConfigRow, { tokens: unknown }> => !('tokens' in row))

/** A value the schema accepts for a row that differs from its default, as the text a person would type. */
function sampleText (row: ConfigRow): string {
  const node = rowSchema(row)
  assert.ok(node !== undefined, `${flagText(row) || row.env}: its path is in no schema`)
  const literals = literalsOf(node)
  if (literals.length > 0) return String(literals.find((literal) => literal !== node.default))
  if (node.type === 'integer') return String((node.minimum ?? 0) + 1)
  if (node.type === 'boolean') return node.default === true ? '0' : '1'
  if (row.env === 'MCP_RATE_LIMIT_TOOLS') return 'deploy=5,search=100'
  if (node.type === 'array') return row.env === 'MCP_ALLOWED_ORIGINS' ? 'https://app.example.com' : 'mcp.example.com'
  return 'a-value-of-sixteen-characters-or-more'
}

/** The row's value in a parsed config, found by its path. */
function valueAt (config: ReturnType<typeof parseConfig>, row: ConfigRow): unknown {
  if ('setting' in row) return config[row.setting]
  if (!('option' in row)) return undefined
  return row.option.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], config.options)
}

test('every row names a flag or a variable, none twice, and a path the schemas hold', () => {
  const flags = CONFIG_ROWS.flatMap((row) => row.flag === undefined ? [] : [row.flag])
  const variables = CONFIG_ROWS.flatMap((row) => row.env === undefined ? [] : [row.env])
  assert.equal(new Set(flags).size, flags.length, 'a flag appears twice')
  assert.equal(new Set(variables).size, variables.length, 'a variable appears twice')
  for (const row of CONFIG_ROWS) {
    assert.ok(row.flag !== undefined || row.env !== undefined, `${row.describe}: neither flag nor variable`)
    if (!('tokens' in row)) assert.ok(rowSchema(row) !== undefined, `${flagText(row) || row.env}: its path is in no schema`)
  }
})

test('every row\'s variable and flag carry a value to the row\'s place in the config', () => {
  for (const row of valueRows) {
    const sample = sampleText(row)
    const expected = row.parse(sample)
    assert.notDeepEqual(valueAt(parseConfig([], {}), row), expected, `${sample} is the default of ${row.env ?? row.flag}`)
    if (row.env !== undefined) assert.deepEqual(valueAt(parseConfig([], { [row.env]: sample }), row), expected, row.env)
    if (row.flag !== undefined) {
      const args = row.placeholder === undefined ? [`--${row.flag}`] : [`--${row.flag}`, sample]
      assert.deepEqual(valueAt(parseConfig(args, {}), row), row.placeholder === undefined ? true : expected, `--${row.flag}`)
    }
  }
})

test('the usage text has a line for every row with its flag, variable and default', () => {
  const lines = usage().split('\n')
  for (const row of CONFIG_ROWS) {
    const line = row.flag === undefined
      ? lines.find((candidate) => candidate.includes(` ${row.env} `))
      : lines.find((candidate) => candidate.startsWith(`  ${flagText(row)} `) && (row.env === undefined || candidate.includes(` ${row.env} `)))
    assert.ok(line !== undefined, `no usage line for ${flagText(row) || row.env}`)
    assert.ok(line.includes(row.describe) && line.endsWith(`default ${defaultText(row)}`), line)
  }
})

/** The documentation's table of flags and variables: the one whose header is Flag | Variable | Default | Meaning. */
function documentedRows (): string[][] {
  const files = ['README.md', ...(existsSync(join(REPO_ROOT, 'docs')) ? readdirSync(join(REPO_ROOT, 'docs')).map((name) => `docs/${name}`) : [])]
  for (const file of files.filter((name) => name.endsWith('.md'))) {
    const lines = readFileSync(join(REPO_ROOT, file), 'utf8').split('\n')
    const header = lines.findIndex((line) => /^\| Flag \| Variable \| Default \| Meaning \|$/.test(line))
    if (header === -1) continue
    const body = lines.slice(header + 2)
    const end = body.findIndex((line) => !line.startsWith('|'))
    return body.slice(0, end === -1 ? undefined : end).map((line) =>
      line.replaceAll('\\|', '\u0000').split('|').slice(1, -1).map((cell) => cell.replaceAll('\u0000', '|').replaceAll('`', '').trim()))
  }
  assert.fail('no Flag | Variable | Default | Meaning table in README.md or docs/')
}

test('the documented table of flags and variables lists the rows in order, with their defaults', () => {
  const documented = documentedRows().filter(([flag]) => flag !== '--help, --version')
  assert.deepEqual(documented.map(([flag, variable]) => [flag, variable.split(' ')[0]]), CONFIG_ROWS.map((row) => [flagText(row), row.env ?? '']))
  assert.deepEqual(documented.map(([, , fallback]) => fallback), CONFIG_ROWS.map(defaultText))
})
