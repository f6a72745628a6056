import { SchemaProblem } from './schema-problem.js'
import { toolSchemaOf, type SharedSchemas } from './schema-refs.js'
import { isObjectType, isSchemaObject, type SchemaObject } from './schema-walk.js'

/** The property that holds a result which is not an object (a list, a string, a number). */
export const WRAPPED_RESULT = 'result'

/** How a route's successful answer becomes a tool result. */
export type OutputShape =
  /** The JSON body is an object: it is the structured content, and the schema is the tool's output schema. */
  | { kind: 'object', schema: SchemaObject }
  /** The body is anything else: the structured content is `{ result: body }`. */
  | { kind: 'wrapped', schema: SchemaObject }
  /** No 2xx schema: JSON objects are still structured content, other JSON is wrapped, text stays text. */
  | { kind: 'undeclared' }

const SUCCESS_CODE = /^2(\d\d|xx)$/i
const STREAMING_MEDIA = /^(text\/event-stream|application\/(x-)?ndjson|application\/jsonl|application\/stream\+json|multipart\/)/i
const TYPING_KEYWORDS = ['type', 'properties', 'items', 'anyOf', 'oneOf', 'allOf', 'enum', 'const', '$ref', 'not']

export function isJsonMedia (media: string): boolean {
  return /^application\/([\w.+-]+\+)?json(\s*;|$)/i.test(media)
}

export function isTextMedia (media: string): boolean {
  return /^text\//i.test(media) && !/^text\/event-stream/i.test(media)
}

/** The JSON schema of one response entry (`{ 200: schema }` or `{ 200: { content: { 'application/json': { schema } } } }`). */
function entrySchema (code: string, entry: unknown): unknown {
  if (!isSchemaObject(entry) || !isSchemaObject(entry.content)) return entry
  const media = Object.keys(entry.content)
  const json = media.find(isJsonMedia)
  if (json !== undefined) return (entry.content[json] as { schema?: unknown }).schema
  const streaming = media.find((type) => STREAMING_MEDIA.test(type))
  if (streaming !== undefined) throw new SchemaProblem(`its ${code} reply streams (${streaming}): a tool call needs one complete answer`)
  const text = media.find(isTextMedia)
  if (text !== undefined) return { type: 'string' }
  throw new SchemaProblem(`its ${code} reply is ${media.join(', ')}, which a tool result cannot carry (only JSON and text)`)
}

function isTyped (schema: unknown): boolean {
  return isSchemaObject(schema) ? TYPING_KEYWORDS.some((keyword) => keyword in schema) : schema === false
}

/**
 * The tool's output from the route's 2xx response schemas (`200`, `201`, `2xx`...): an object schema is the output
 * schema as it is; anything else is wrapped under `result`; several differing schemas are alternatives (`anyOf`).
 * A 2xx reply that streams or is binary makes the route unbridgeable.
 */
export function outputShape (response: unknown, shared: SharedSchemas): OutputShape {
  if (!isSchemaObject(response)) return { kind: 'undeclared' }
  const schemas: unknown[] = []
  const seen = new Set<string>()
  // 204 has no body by definition, whatever its entry says.
  for (const code of Object.keys(response).filter((key) => SUCCESS_CODE.test(key) && key !== '204').sort()) {
    const schema = toolSchemaOf(entrySchema(code, response[code]), shared)
    if (!isTyped(schema)) return { kind: 'undeclared' }
    const key = JSON.stringify(schema)
    if (seen.has(key)) continue
    seen.add(key)
    schemas.push(schema)
  }
  if (schemas.length === 0) return { kind: 'undeclared' }
  if (schemas.every(isObjectType)) {
    return { kind: 'object', schema: schemas.length === 1 ? schemas[0] as SchemaObject : { type: 'object', anyOf: schemas } }
  }
  const result = schemas.length === 1 ? schemas[0] : { anyOf: schemas }
  return { kind: 'wrapped', schema: { type: 'object', properties: { [WRAPPED_RESULT]: result }, required: [WRAPPED_RESULT] } }
}
