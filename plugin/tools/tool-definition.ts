import type { Static, TSchema } from 'typebox'
import type { CallToolResult, ToolAnnotations } from '../protocol/spec.js'
import type { HandlerContext } from '../protocol/handler-context.js'

/** What a tool handler may return; the tool layer turns each form into a `tools/call` result. */
export type ToolReturn<Output> =
  | string
  | CallToolResult
  | Output
  | undefined
  | void

/**
 * A tool: a plain object. `input` and `output` are TypeBox schemas (or plain JSON Schema objects, which is what
 * TypeBox schemas are); the handler's argument and return types follow from them.
 */
export interface ToolDefinition<Input extends TSchema = TSchema, Output extends TSchema = TSchema> {
  /** Unique name the client calls the tool by: letters, digits, `_`, `-` and `.`, at most 128 characters. */
  name: string
  /** Human-readable name for UIs. */
  title?: string
  /** What the tool does, for the model choosing tools. */
  description: string
  /** JSON Schema (an object schema) for the arguments. Checked before the handler runs. */
  input: Input
  /** JSON Schema (an object schema) for structured results. When set, object results are checked against it. */
  output?: Output
  /** Hints for clients (read-only, destructive, idempotent, open-world). */
  annotations?: ToolAnnotations
  /** Ends the call with a tool error and fires `ctx.signal` after this long. Default: the host's `toolTimeoutMs`. */
  timeoutMs?: number
  /**
   * Scopes a caller's access token must grant (OAuth, or a verify function whose identity has `scopes`); without
   * them the request gets 403 `insufficient_scope` and the client can authorize again (docs/oauth.md). Static
   * tokens are not restricted.
   */
  scopes?: readonly string[]
  handler: (args: Static<Input>, ctx: HandlerContext) => ToolReturn<Static<Output>> | Promise<ToolReturn<Static<Output>>>
}

/** Any tool, whatever its schemas: the type of a list of tools. */

export type AnyTool = ToolDefinition<any, any>

/** Identity helper that types `handler(args, ctx)` from the tool's schemas. */
export function defineTool<Input extends TSchema, Output extends TSchema = TSchema> (
  tool: ToolDefinition<Input, Output>
): ToolDefinition<Input, Output> {
  return tool
}
