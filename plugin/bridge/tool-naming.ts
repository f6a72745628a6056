import type { ToolAnnotations } from '../protocol/spec.js'
import { parseRoutePath } from './route-path.js'

const TOOL_NAME = /^[A-Za-z0-9_.-]{1,128}$/
const MAX_NAME = 128

export function isToolName (name: string): boolean {
  return TOOL_NAME.test(name)
}

/** Anything outside the tool-name alphabet becomes `_`; runs of `_` collapse; the result is at most 128 characters. */
function sanitize (text: string): string {
  return text.replace(/[^A-Za-z0-9_.-]+/g, '_').replace(/_+/g, '_').replace(/^_|_$/g, '').slice(0, MAX_NAME)
}

/**
 * A readable tool name from a method and URL: `GET /todos/:id/comments` → `get_todos_by_id_comments`,
 * `POST /todos` → `post_todos`, `GET /` → `get_root`, `GET /files/*` → `get_files_by_path`.
 */
export function nameFromRoute (method: string, url: string): string {
  const words: string[] = [method.toLowerCase()]
  for (const segment of parseRoutePath(url)) {
    if (segment.kind === 'param') words.push('by', segment.name)
    else if (segment.kind === 'wildcard') words.push('by', 'path')
    else words.push(...segment.text.split(/[^A-Za-z0-9]+/).filter((word) => word !== ''))
  }
  if (words.length === 1) words.push('root')
  return sanitize(words.join('_').toLowerCase())
}

/** The route's own `operationId`, made fit for a tool name (OpenAPI allows more characters than MCP does). */
export function nameFromOperationId (operationId: string): string | undefined {
  const name = sanitize(operationId)
  return name === '' ? undefined : name
}

/**
 * What clients may assume from the HTTP method, unless the route says otherwise: GET only reads, DELETE destroys
 * (and, like PUT, can be repeated with the same effect).
 */
export function annotationsFromMethod (method: string): ToolAnnotations {
  switch (method) {
    case 'GET': return { readOnlyHint: true }
    case 'PUT': return { readOnlyHint: false, idempotentHint: true }
    case 'DELETE': return { readOnlyHint: false, destructiveHint: true, idempotentHint: true }
    case 'POST':
    case 'PATCH': return { readOnlyHint: false }
    default: return {}
  }
}

export interface ToolText {
  title: string | undefined
  description: string
}

/**
 * The tool's title and description: the route's `config.mcp` first, then its schema's `summary` (a title) and
 * `description`, and as a last resort the method and URL, so a model always has something to go on.
 */
export function toolText (
  method: string,
  url: string,
  schema: { summary?: unknown, description?: unknown } | undefined,
  mcp: { title?: string, description?: string }
): ToolText {
  const summary = typeof schema?.summary === 'string' && schema.summary !== '' ? schema.summary : undefined
  const long = typeof schema?.description === 'string' && schema.description !== '' ? schema.description : undefined
  return {
    title: mcp.title ?? summary,
    description: mcp.description ?? long ?? summary ?? `${method} ${url}`
  }
}
