import assert from 'node:assert/strict'

/** The fixture `add` tool called with `{ a: 'two' }`: a tool error that names each failing path. */
export function assertInvalidAddArguments (value: unknown): void {
  const result = value as { isError?: unknown, content?: unknown }
  assert.equal(result.isError, true)
  const text = (result.content as Array<{ text: string }>)[0].text
  assert.match(text, /Invalid arguments for tool "add"/)
  assert.match(text, /\/a must be number/)
  assert.match(text, /required properties b/)
}
