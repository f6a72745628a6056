import { JsonRpcError, ErrorCode, isObjectValue, type JsonRpcRequest, quoteValue } from '../protocol/jsonrpc.js'
import type { CallEnv } from '../protocol/call-env.js'
import type { CallToolResult, Tool } from '../protocol/spec.js'
import { compileSchema, isObjectSchema, type CompiledSchema } from '../protocol/schema-check.js'
import { runHandler, errorMessage, rethrowProtocolSignals, type HandlerOutcome } from '../protocol/run-handler.js'
import type { ServerServices } from '../protocol/handler-context.js'
import { configErrors } from '../errors.js'
import { checkScopeNames } from '../scope-names.js'
import type { AnyTool } from './tool-definition.js'
import { normalizeToolReturn, structuredResult, toolError } from './tool-result.js'

interface ToolEntry {
  definition: AnyTool
  descriptor: Tool
  input: CompiledSchema
  output: CompiledSchema | undefined
  paramHeaders: readonly ParamHeader[]
}

/** An argument the 2026 era also carries in an `Mcp-Param-<name>` header (`"x-mcp-header": "<name>"` in its schema). */
export interface ParamHeader {
  property: string
  header: string
}

function paramHeadersOf (input: unknown): ParamHeader[] {
  const properties = (input as { properties?: Record<string, Record<string, unknown>> }).properties ?? {}
  return Object.entries(properties)
    .filter(([, schema]) => typeof schema?.['x-mcp-header'] === 'string')
    .map(([property, schema]) => ({ property, header: `mcp-param-${String(schema['x-mcp-header']).toLowerCase()}` }))
}

export interface ToolRegistry {
  readonly size: number
  /** The `tools/list` result; built again only after the tools changed. */
  list: () => { tools: Tool[] }
  /** The tools as they were defined, in the order they were added. */
  definitions: () => AnyTool[]
  /** Adds a tool at run time; an invalid definition or a taken name throws McpConfigError. */
  add: (tool: AnyTool) => void
  /** Removes a tool by name; false if there was none. Calls already running finish. */
  remove: (name: string) => boolean
  has: (name: string) => boolean
  /** Arguments of the tool that travel in headers too (2026 era); empty for an unknown tool. */
  paramHeaders: (name: string) => readonly ParamHeader[]
  /** Handles `tools/call`. Throws JsonRpcError for protocol errors; tool failures are `isError` results. */
  call: (request: JsonRpcRequest, env: CallEnv) => CallToolResult | undefined | Promise<CallToolResult | undefined>
}

const TOOL_NAME = /^[A-Za-z0-9_.-]{1,128}$/

function checkDefinition (tool: AnyTool): void {
  const name = typeof tool?.name === 'string' ? tool.name : String(tool?.name)
  if (typeof tool !== 'object' || tool === null) throw configErrors.invalidDefinition('tool', name, 'a tool must be an object')
  if (!TOOL_NAME.test(name)) {
    throw configErrors.invalidDefinition('tool', name, 'the name must be 1-128 letters, digits, "_", "-" or "."')
  }
  if (typeof tool.description !== 'string') throw configErrors.invalidDefinition('tool', name, '"description" must be a string')
  if (typeof tool.handler !== 'function') throw configErrors.invalidDefinition('tool', name, '"handler" must be a function')
  if (!isObjectSchema(tool.input)) {
    throw configErrors.invalidDefinition('tool', name, '"input" must be an object schema, e.g. Type.Object({ ... })')
  }
  if (tool.output !== undefined && !isObjectSchema(tool.output)) {
    throw configErrors.invalidDefinition('tool', name, '"output" must be an object schema, e.g. Type.Object({ ... })')
  }
}

function describe (tool: AnyTool): Tool {
  const descriptor: Tool = { name: tool.name, description: tool.description, inputSchema: tool.input }
  if (tool.title !== undefined) descriptor.title = tool.title
  if (tool.output !== undefined) descriptor.outputSchema = tool.output
  if (tool.annotations !== undefined) descriptor.annotations = tool.annotations
  return descriptor
}

export function createToolRegistry (tools: readonly AnyTool[], services: ServerServices, defaultTimeoutMs?: number): ToolRegistry {
  const entries = new Map<string, ToolEntry>()
  let listResult: { tools: Tool[] } | undefined

  function add (tool: AnyTool): void {
    checkDefinition(tool)
    checkScopeNames('tool', tool.name, tool.scopes)
    if (entries.has(tool.name)) throw configErrors.duplicateDefinition('tool', tool.name)
    entries.set(tool.name, {
      definition: tool,
      descriptor: describe(tool),
      input: compileSchema(tool.input),
      output: tool.output === undefined ? undefined : compileSchema(tool.output),
      paramHeaders: paramHeadersOf(tool.input)
    })
    listResult = undefined
  }

  function remove (name: string): boolean {
    if (!entries.delete(name)) return false
    listResult = undefined
    return true
  }

  for (const tool of tools) add(tool)

  function call (request: JsonRpcRequest, env: CallEnv): CallToolResult | undefined | Promise<CallToolResult | undefined> {
    const params = request.params ?? {}
    const name = params.name
    if (typeof name !== 'string') {
      throw new JsonRpcError(ErrorCode.InvalidParams, 'tools/call needs "name": the name of the tool to call, as tools/list gives it')
    }
    const entry = entries.get(name)
    if (entry === undefined) {
      throw new JsonRpcError(ErrorCode.InvalidParams, `Unknown tool: ${quoteValue(name)}. Call tools/list to see the tools this server offers.`)
    }
    const rawArgs = params.arguments ?? {}
    if (!isObjectValue(rawArgs)) return toolError(`Invalid arguments for tool "${name}": "arguments" must be an object`)
    const args = entry.input.check(rawArgs)
    if (!args.ok) return toolError(`Invalid arguments for tool "${name}": ${args.problems}`)

    const tool = entry.definition
    const outcome = runHandler(env, request, tool.timeoutMs ?? defaultTimeoutMs, services, (ctx) => tool.handler(args.value, ctx))
    // A synchronous handler's outcome is settled here and now: no promise on the common path.
    return outcome instanceof Promise ? outcome.then((settled) => finish(entry, settled, env)) : finish(entry, outcome, env)
  }

  function finish (entry: ToolEntry, outcome: HandlerOutcome<unknown>, env: CallEnv): CallToolResult | undefined {
    const name = entry.definition.name
    switch (outcome.status) {
      case 'cancelled':
        return undefined
      case 'timeout':
        env.log.warn({ tool: name, timeoutMs: outcome.timeoutMs }, 'Tool timed out')
        return toolError(`Tool "${name}" timed out after ${outcome.timeoutMs} ms`)
      case 'failed':
        rethrowProtocolSignals(outcome.error)
        env.log.error({ err: outcome.error, tool: name }, 'Tool handler threw')
        return toolError(errorMessage(outcome.error))
    }
    try {
      return resultOf(entry, outcome.value, env)
    } catch (error) {
      // A getter that throws, a cycle in structured content: the call fails as a tool error, nothing else does.
      env.log.error({ tool: name, reason: errorMessage(error) }, 'Tool returned a result that cannot be sent')
      return toolError(`Tool "${name}" returned a result that cannot be sent as JSON: ${errorMessage(error).split('\n')[0]}`)
    }
  }

  /** Turns what a handler returned into the result to send, checked against the tool's output schema. */
  function resultOf (entry: ToolEntry, value: unknown, env: CallEnv): CallToolResult {
    const name = entry.definition.name
    const normalized = normalizeToolReturn(value)
    if (normalized.kind === 'result') return normalized.result
    if (normalized.kind === 'malformed') {
      env.log.error({ tool: name, problem: normalized.problem }, 'Tool returned a malformed result')
      return toolError(`Tool "${name}" returned a malformed result: ${normalized.problem}`)
    }
    if (entry.output !== undefined) {
      const checked = entry.output.check(normalized.structured)
      if (!checked.ok) {
        env.log.error({ tool: name, problems: checked.problems }, 'Tool result does not match its output schema')
        return toolError(`Tool "${name}" returned a result that does not match its output schema: ${checked.problems}`)
      }
    }
    return structuredResult(normalized.structured)
  }

  return {
    get size () { return entries.size },
    list: () => (listResult ??= { tools: [...entries.values()].map((entry) => entry.descriptor) }),
    definitions: () => [...entries.values()].map((entry) => entry.definition),
    add,
    remove,
    has: (name) => entries.has(name),
    paramHeaders: (name) => entries.get(name)?.paramHeaders ?? [],
    call
  }
}
