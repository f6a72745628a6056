import type { CallToolResult } from '../protocol/spec.js'

/** A tool result that tells the model what went wrong, so that it can correct itself. */
export function toolError (message: string): CallToolResult {
  return { content: [{ type: 'text', text: message }], isError: true }
}

function isFullResult (value: object): value is CallToolResult {
  return Array.isArray((value as { content?: unknown }).content)
}

export type NormalizedResult =
  | { kind: 'result', result: CallToolResult }
  | { kind: 'structured', structured: Record<string, unknown> }
  | { kind: 'malformed', problem: string }

const CONTENT_TYPES = new Set(['text', 'image', 'audio', 'resource_link', 'resource'])

/**
 * What is wrong with a `{ content }` result a handler built itself, or undefined when it can be sent: content items
 * of the spec's types, and JSON all the way down (a BigInt, a cycle or a throwing getter would fail the transport).
 */
function malformation (result: CallToolResult): string | undefined {
  for (const [index, item] of (result.content as unknown[]).entries()) {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) return `content[${index}] is not an object`
    const type = (item as { type?: unknown }).type
    if (typeof type !== 'string' || !CONTENT_TYPES.has(type)) {
      return `content[${index}] has type ${JSON.stringify(type) ?? 'undefined'}, not one of ${[...CONTENT_TYPES].join(', ')}`
    }
    if (type === 'text' && typeof (item as { text?: unknown }).text !== 'string') return `content[${index}].text is not a string`
  }
  if (result.isError !== undefined && typeof result.isError !== 'boolean') return '"isError" is not a boolean'
  try {
    JSON.stringify(result)
  } catch (error) {
    return `it cannot be sent as JSON (${error instanceof Error ? error.message.split('\n')[0] : 'serialization failed'})`
  }
  return undefined
}

/**
 * Turns what a handler returned into a `tools/call` result: a string is one text item, a full
 * `{ content }` result passes through, any other object is structured content (checked against the tool's
 * output schema by the caller) echoed as JSON text.
 */
export function normalizeToolReturn (value: unknown): NormalizedResult {
  if (typeof value === 'string') return { kind: 'result', result: { content: [{ type: 'text', text: value }] } }
  if (value === undefined || value === null) return { kind: 'result', result: { content: [] } }
  if (typeof value !== 'object') return { kind: 'result', result: { content: [{ type: 'text', text: String(value) }] } }
  if (Array.isArray(value)) {
    return { kind: 'result', result: { content: [{ type: 'text', text: JSON.stringify(value) }] } }
  }
  if (isFullResult(value)) {
    const problem = malformation(value)
    return problem === undefined ? { kind: 'result', result: value } : { kind: 'malformed', problem }
  }
  return { kind: 'structured', structured: value as Record<string, unknown> }
}

export function structuredResult (structured: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(structured) }], structuredContent: structured }
}
