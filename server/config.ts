import { parseArgs } from 'node:util'
import type { McpConfig, NamedToken } from '../plugin/options.js'
import { ConfigError } from './config-error.js'
import { CONFIG_ROWS, type ConfigRow, type RawValue } from './config-rows.js'
import { checkServerConfig, literalsOf, rowPointer, rowSchema, type ConfigProblem } from './config-schema.js'
import type { ServerSettings } from './server-settings.js'
import { fromEnv, loadTokens } from './tokens.js'
import { usage } from './usage.js'

export { ConfigError } from './config-error.js'
export { loadTokens } from './tokens.js'

/** Everything `node server` was told, checked, with the schemas' defaults filled in. */
export interface ServerConfig extends ServerSettings {
  /** Empty for stdio, which has no auth: the client that spawns the process is the only caller. */
  tokens: NamedToken[]
  /** The plugin options the rows set, with the plugin's defaults for the rest. */
  options: McpConfig
}

/** Where a row's value came from: the flag or variable name people typed, and what they gave. */
interface Source {
  name: string
  raw: RawValue
}

type Flags = Record<string, string | boolean | undefined>

function flagOptions (rows: readonly ConfigRow[]): Record<string, { type: 'string' | 'boolean' }> {
  const options: Record<string, { type: 'string' | 'boolean' }> = {}
  for (const row of rows) {
    if (row.flag === undefined) continue
    options[row.flag] = { type: row.placeholder === undefined ? 'boolean' : 'string' }
    if (row.negatable === true) options[`no-${row.flag}`] = { type: 'boolean' }
  }
  return options
}

function parseFlags (argv: string[]): Flags {
  try {
    return parseArgs({ args: argv, options: flagOptions(CONFIG_ROWS), strict: true }).values
  } catch (error) {
    throw new ConfigError(`${(error as Error).message}\n\n${usage()}`)
  }
}

/** The flag if given, else the variable if set; undefined when neither. */
function sourceOf (row: ConfigRow, flags: Flags, env: NodeJS.ProcessEnv): Source | undefined {
  if (row.flag !== undefined) {
    const given = flags[row.flag]
    const negated = row.negatable === true ? flags[`no-${row.flag}`] : undefined
    if (given !== undefined && negated !== undefined) throw new ConfigError(`--${row.flag} and --no-${row.flag} contradict each other: pick one`)
    if (given !== undefined) return { name: `--${row.flag}`, raw: given }
    if (negated !== undefined) return { name: `--no-${row.flag}`, raw: false }
  }
  const value = row.env === undefined ? undefined : fromEnv(env, row.env)
  return value === undefined ? undefined : { name: row.env as string, raw: value }
}

function setAt (target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.')
  let node = target
  for (const key of keys.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>
  node[keys[keys.length - 1]] = value
}

/** What the schema asks of a row's value, in words. */
function expectation (row: ConfigRow, problem: ConfigProblem): string {
  if (row.expected !== undefined) return row.expected
  const node = rowSchema(row) ?? {}
  const literals = literalsOf(node)
  if (literals.length > 0) return `one of ${literals.join(', ')}`
  if (node.type === 'integer') {
    const from = node.minimum ?? 0
    return node.maximum === undefined ? `a whole number from ${from} up` : `a whole number from ${from} to ${node.maximum}`
  }
  if (node.type === 'boolean') return '1 or 0 (true or false)'
  return `valid (${problem.message})`
}

/** The schema's first problem as one line that names the flag or variable it came from. */
function explain (problem: ConfigProblem, sources: Map<ConfigRow, Source>): ConfigError {
  for (const [row, source] of sources) {
    const pointer = rowPointer(row) as string
    if (problem.path !== pointer && !problem.path.startsWith(`${pointer}/`)) continue
    const shown = row.secret === true ? '' : `, got "${String(source.raw)}"`
    return new ConfigError(`${source.name} must be ${expectation(row, problem)}${shown}`)
  }
  return new ConfigError(`Invalid configuration: ${problem.path} ${problem.message}`)
}

/** Reads the flags and the environment through the table of rows, then lets the schemas check and complete them. */
export function parseConfig (argv: string[], env: NodeJS.ProcessEnv): ServerConfig {
  const flags = parseFlags(argv)
  const built = { settings: {}, options: {} }
  const sources = new Map<ConfigRow, Source>()
  for (const row of CONFIG_ROWS) {
    if ('tokens' in row) continue
    const source = sourceOf(row, flags, env)
    if (source === undefined) continue
    sources.set(row, source)
    if ('option' in row) setAt(built.options, row.option, row.parse(source.raw))
    else setAt(built.settings, row.setting, row.parse(source.raw))
  }
  const checked = checkServerConfig(built)
  if (!checked.ok) throw explain(checked.problems[0], sources)
  const { settings, options } = checked
  const tokens = settings.transport === 'http' ? loadTokens(env) : []
  if (settings.noAuth && tokens.length > 0) {
    throw new ConfigError('--no-auth contradicts MCP_TOKEN / MCP_TOKEN_FILE: unset the tokens, or drop --no-auth to require them')
  }
  return { ...settings, tokens, options }
}

/** Addresses only this machine can reach; anything else needs a token (or an explicit --no-auth). */
export function isLoopback (host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
}
