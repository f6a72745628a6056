import type { AnyTool } from '../tools/tool-definition.js'
import { compileSchema } from '../protocol/schema-check.js'
import { callRoute, type BridgeRuntime } from './route-call.js'
import type { RoutePlan } from './route-plan.js'

/** A tool definition with the per-tool OAuth scopes the route asked for (`config.mcp.scopes`). */
export type BridgedToolDefinition = AnyTool & { scopes?: string[] }

/** The tool that runs a planned route. Its handler returns full results, so it checks structured output itself. */
export function createRouteTool (plan: RoutePlan, runtime: BridgeRuntime): BridgedToolDefinition {
  const output = plan.output.kind === 'undeclared' ? undefined : plan.output.schema
  const check = output === undefined ? undefined : compileSchema(output)
  const tool: BridgedToolDefinition = {
    name: plan.name,
    description: plan.description,
    input: plan.input.schema,
    annotations: plan.annotations,
    // The registry checked the arguments against the input schema, an object schema, before this runs.
    handler: async (args: unknown, ctx) => await callRoute(plan, runtime, args as Record<string, unknown>, ctx, check)
  }
  if (plan.title !== undefined) tool.title = plan.title
  if (output !== undefined) tool.output = output
  if (plan.timeoutMs !== undefined) tool.timeoutMs = plan.timeoutMs
  if (plan.scopes !== undefined) tool.scopes = [...plan.scopes]
  return tool
}
