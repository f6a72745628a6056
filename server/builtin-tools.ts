import { defineTool, type AnyTool } from '../plugin/core.js'

/** What the status tool reports; each entry point fills it from its own state. */
export type StatusSource = () => Record<string, unknown>

/** No arguments. A plain JSON Schema: the server need not load TypeBox's builder for one empty object. */
const NO_ARGUMENTS = { type: 'object', properties: {}, additionalProperties: false } as const

/** The tools `node server` serves when no --tools module is given: read-only, safe to expose. */
export function createBuiltinTools (status: StatusSource): AnyTool[] {
  return [
    defineTool({
      name: 'server_status',
      title: 'Server status',
      description: 'Reports this MCP server\'s name, version, uptime, enabled transports and open session counts.',
      input: NO_ARGUMENTS,
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
      handler: (_args, ctx) => ({ ...status(), transport: ctx.transport, caller: ctx.auth?.id ?? null })
    })
  ]
}
