import type { ToolAnnotations } from '../protocol/spec.js'
import { SchemaProblem } from './schema-problem.js'

/** `config: { mcp: { ... } }` on a route: how the route appears as a tool. Every field is optional. */
export interface McpRouteOptions {
  /** The tool's name. Default: the route's `operationId`, else one made from the method and URL (`get_todos_by_id`). */
  name?: string
  /** Display name for clients. Default: the route schema's `summary`. */
  title?: string
  /** What the tool does, for the model. Default: the schema's `description`, else its `summary`. */
  description?: string
  /** Hints for clients, over those the method implies (GET: read-only; PUT: idempotent; DELETE: destructive). */
  annotations?: ToolAnnotations
  /** OAuth scopes a caller needs for this tool (carried to the tool's `scopes`). */
  scopes?: string[]
  /** How long a call may run before it ends as a tool error and the route's `request.signal` fires (ms). */
  timeoutMs?: number
  /** The route's headers schema becomes tool arguments too. Default false. */
  headers?: boolean
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Exposes the route as an MCP tool (fastify-mcp-host): `true`, or how the tool should look. */
    mcp?: boolean | McpRouteOptions
  }
  // The OpenAPI fields the route bridge reads, typed as @fastify/swagger types them (so both merge).
  interface FastifySchema {
    /** The tool's default name (fastify-mcp-host), and the OpenAPI operation id. */
    operationId?: string
    /** The tool's default title (fastify-mcp-host). */
    summary?: string
    /** The tool's default description (fastify-mcp-host). */
    description?: string
  }
}

const ANNOTATION_HINTS = ['readOnlyHint', 'destructiveHint', 'idempotentHint', 'openWorldHint'] as const
const FIELDS: Record<keyof McpRouteOptions, (value: unknown) => string | undefined> = {
  name: (value) => typeof value === 'string' ? undefined : 'must be a string',
  title: (value) => typeof value === 'string' ? undefined : 'must be a string',
  description: (value) => typeof value === 'string' ? undefined : 'must be a string',
  annotations: checkAnnotations,
  scopes: (value) => Array.isArray(value) && value.every((scope) => typeof scope === 'string' && scope !== '')
    ? undefined
    : 'must be a list of non-empty strings',
  timeoutMs: (value) => Number.isInteger(value) && (value as number) >= 0 ? undefined : 'must be a whole number of milliseconds (0 for none)',
  headers: (value) => typeof value === 'boolean' ? undefined : 'must be true or false'
}

function checkAnnotations (value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'must be an object'
  for (const [key, hint] of Object.entries(value)) {
    if (key === 'title') {
      if (typeof hint !== 'string') return '.title must be a string'
    } else if (!(ANNOTATION_HINTS as readonly string[]).includes(key)) {
      return `.${key} is not an annotation (use title, ${ANNOTATION_HINTS.join(', ')})`
    } else if (typeof hint !== 'boolean') {
      return `.${key} must be true or false`
    }
  }
  return undefined
}

/** Whether a route asks to be a tool: `config.mcp` is set to anything but false. */
export function isMarked (config: unknown): boolean {
  const mcp = (config as { mcp?: unknown } | undefined)?.mcp
  return mcp !== undefined && mcp !== false
}

/** The route's `config.mcp` as options; a misspelt or mistyped field throws a SchemaProblem naming it. */
export function readRouteOptions (config: unknown): McpRouteOptions {
  const mcp = (config as { mcp?: unknown } | undefined)?.mcp
  if (mcp === true) return {}
  if (typeof mcp !== 'object' || mcp === null || Array.isArray(mcp)) {
    throw new SchemaProblem('config.mcp must be true or an object { name, title, description, annotations, scopes, timeoutMs, headers }')
  }
  for (const [key, value] of Object.entries(mcp)) {
    const check = FIELDS[key as keyof McpRouteOptions]
    if (check === undefined) throw new SchemaProblem(`config.mcp.${key} is not an option (use ${Object.keys(FIELDS).join(', ')})`)
    if (value === undefined) continue
    const problem = check(value)
    if (problem !== undefined) throw new SchemaProblem(`config.mcp.${key} ${problem}`)
  }
  return mcp as McpRouteOptions
}
