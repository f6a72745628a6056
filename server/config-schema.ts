import * as Type from '../plugin/protocol/typebox-runtime.js'
import { interpretSchema } from '../plugin/protocol/schema-check.js'
import { checkConfig, McpConfigSchema, type McpConfig } from '../plugin/options.js'
import { ServerSettingsSchema, type ServerSettings } from './server-settings.js'
import type { ConfigRow } from './config-rows.js'

/** What the rows build: server settings beside plugin options, checked together by the two schemas. */
const ServerConfigSchema = Type.Object({ settings: ServerSettingsSchema, options: McpConfigSchema })

/** A JSON Schema node, as far as these files read one. */
export interface SchemaNode {
  type?: string
  properties?: Record<string, SchemaNode>
  anyOf?: SchemaNode[]
  const?: unknown
  default?: unknown
  minimum?: number
  maximum?: number
  minLength?: number
}

/** Where a row's value sits in the checked object, as a JSON pointer (`/options/sse/maxSessions`); none for tokens. */
export function rowPointer (row: ConfigRow): string | undefined {
  if ('option' in row) return `/options/${row.option.replaceAll('.', '/')}`
  if ('setting' in row) return `/settings/${row.setting}`
  return undefined
}

/** The schema of a row's value; undefined for token rows, and for a path the schemas lack (a test forbids that). */
export function rowSchema (row: ConfigRow): SchemaNode | undefined {
  const pointer = rowPointer(row)
  if (pointer === undefined) return undefined
  let node: SchemaNode | undefined = ServerConfigSchema as SchemaNode
  for (const key of pointer.slice(1).split('/')) node = node?.properties?.[key]
  return node
}

/** The literal values a union of literals allows (`http`, `stdio`), at any depth. */
export function literalsOf (node: SchemaNode): unknown[] {
  if (node.const !== undefined) return [node.const]
  return (node.anyOf ?? []).flatMap(literalsOf)
}

/** A row's default as the usage text and docs/configuration.md say it: the row's words, else the schema's default. */
export function defaultText (row: ConfigRow): string {
  if (row.defaultText !== undefined) return row.defaultText
  const value = rowSchema(row)?.default
  if (value === undefined) return 'none'
  if (typeof value === 'boolean') return value ? 'on' : 'off'
  if (typeof value === 'number' && rowPointer(row)?.endsWith('Ms') === true && value >= 60_000 && value % 60_000 === 0) {
    return `${value} (${value / 60_000} min)`
  }
  return String(value)
}

export interface ConfigProblem {
  /** JSON pointer of the value, e.g. `/options/allowedHosts/1`. */
  path: string
  message: string
}

export type CheckedConfig = { ok: true, settings: ServerSettings, options: McpConfig } | { ok: false, problems: ConfigProblem[] }

const checkSettings = interpretSchema(ServerSettingsSchema)

/**
 * Checks what the rows built and fills the schemas' defaults, without touching the input. The options go through
 * the plugin's own check (which the plugin runs again when registered); both are interpreted, not compiled, since
 * each runs once per process.
 */
export function checkServerConfig (input: { settings: object, options: object }): CheckedConfig {
  const settings = checkSettings.problems(input.settings)
  const options = checkConfig.problems(input.options)
  const problems: ConfigProblem[] = []
  if (!settings.ok) for (const { instancePath, message } of settings.problems) problems.push({ path: `/settings${instancePath}`, message })
  if (!options.ok) for (const { instancePath, message } of options.problems) problems.push({ path: `/options${instancePath}`, message })
  if (!settings.ok || !options.ok) return { ok: false, problems }
  return { ok: true, settings: settings.value as ServerSettings, options: options.value as McpConfig }
}
