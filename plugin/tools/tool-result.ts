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
  if (isFullResult(value)) return { kind: 'result', result: value }
  return { kind: 'structured', structured: value as Record<string, unknown> }
}

export function structuredResult (structured: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(structured) }], structuredContent: structured }
}
