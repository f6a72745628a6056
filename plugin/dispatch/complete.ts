import { ErrorCode, JsonRpcError, isObjectValue, type JsonRpcRequest, quoteValue } from '../protocol/jsonrpc.js'
import type { CompleteResult } from '../protocol/spec.js'
import type { PromptRegistry } from '../prompts/prompt-registry.js'
import type { ResourceRegistry } from '../resources/resource-registry.js'
import type { Completer } from '../completions/completer.js'

const MAX_VALUES = 100

function findCompleter (ref: Record<string, unknown>, argument: string, prompts: PromptRegistry, resources: ResourceRegistry): Completer | undefined {
  if (ref.type === 'ref/prompt' && typeof ref.name === 'string') {
    if (!prompts.has(ref.name)) throw new JsonRpcError(ErrorCode.InvalidParams, `Unknown prompt: ${quoteValue(ref.name)}`)
    return prompts.completer(ref.name, argument)
  }
  if (ref.type === 'ref/resource' && typeof ref.uri === 'string') {
    if (!resources.hasTemplate(ref.uri)) throw new JsonRpcError(ErrorCode.InvalidParams, `Unknown resource template: ${quoteValue(ref.uri)}`)
    return resources.completer(ref.uri, argument)
  }
  throw new JsonRpcError(ErrorCode.InvalidParams, 'completion/complete needs "ref": { "type": "ref/prompt", "name" } or { "type": "ref/resource", "uri" }')
}

/** Handles `completion/complete`: at most 100 suggestions, with the total and whether there are more. */
export async function complete (request: JsonRpcRequest, prompts: PromptRegistry, resources: ResourceRegistry): Promise<{ completion: CompleteResult['completion'] }> {
  const { ref, argument, context } = request.params ?? {}
  if (!isObjectValue(ref) || !isObjectValue(argument) || typeof argument.name !== 'string' || typeof argument.value !== 'string') {
    throw new JsonRpcError(ErrorCode.InvalidParams, 'completion/complete needs "ref" and "argument": { "name", "value" }')
  }
  const completer = findCompleter(ref, argument.name, prompts, resources)
  if (completer === undefined) return { completion: { values: [], hasMore: false } }
  const known = isObjectValue(context) && isObjectValue(context.arguments) ? context.arguments as Record<string, string> : {}
  const values = await completer(argument.value, { arguments: known })
  return { completion: { values: values.slice(0, MAX_VALUES), total: values.length, hasMore: values.length > MAX_VALUES } }
}
