import { ErrorCode, JsonRpcError, isObjectValue, type JsonRpcRequest, quoteValue } from '../protocol/jsonrpc.js'
import type { CallEnv } from '../protocol/call-env.js'
import type { GetPromptResult, Prompt, PromptArgument } from '../protocol/spec.js'
import { compileSchema, isObjectSchema, type CompiledSchema } from '../protocol/schema-check.js'
import { runHandler, errorMessage, rethrowProtocolSignals } from '../protocol/run-handler.js'
import type { ServerServices } from '../protocol/handler-context.js'
import { configErrors } from '../errors.js'
import { checkScopeNames } from '../scope-names.js'
import type { Completer } from '../completions/completer.js'
import type { AnyPrompt, PromptReturn } from './prompt-definition.js'

interface PromptEntry {
  definition: AnyPrompt
  descriptor: Prompt
  args: CompiledSchema | undefined
}

export interface PromptRegistry {
  readonly size: number
  list: () => { prompts: Prompt[] }
  /** The prompts as they were defined, in the order they were added. */
  definitions: () => AnyPrompt[]
  /** Adds a prompt at run time; an invalid definition or a taken name throws McpConfigError. */
  add: (prompt: AnyPrompt) => void
  /** Removes a prompt by name; false if there was none. */
  remove: (name: string) => boolean
  /** Handles `prompts/get`; an unknown prompt or bad arguments are JSON-RPC error -32602. */
  get: (request: JsonRpcRequest, env: CallEnv) => Promise<GetPromptResult | undefined>
  completer: (prompt: string, argument: string) => Completer | undefined
  has: (prompt: string) => boolean
}

function describeArguments (schema: AnyPrompt['arguments']): PromptArgument[] | undefined {
  if (schema === undefined) return undefined
  const { properties = {}, required = [] } = schema as { properties?: Record<string, { description?: string, title?: string }>, required?: string[] }
  return Object.entries(properties).map(([name, property]) => {
    const argument: PromptArgument = { name, required: required.includes(name) }
    if (property.title !== undefined) argument.title = property.title
    if (property.description !== undefined) argument.description = property.description
    return argument
  })
}

function describe (prompt: AnyPrompt): Prompt {
  const descriptor: Prompt = { name: prompt.name }
  if (prompt.title !== undefined) descriptor.title = prompt.title
  if (prompt.description !== undefined) descriptor.description = prompt.description
  const args = describeArguments(prompt.arguments)
  if (args !== undefined) descriptor.arguments = args
  return descriptor
}

/** Turns what a prompt handler returned into a `prompts/get` result. */
export function normalizePromptReturn (value: PromptReturn, description: string | undefined): GetPromptResult {
  if (typeof value === 'string') {
    const result: GetPromptResult = { messages: [{ role: 'user', content: { type: 'text', text: value } }] }
    if (description !== undefined) result.description = description
    return result
  }
  if (Array.isArray(value)) return description === undefined ? { messages: value } : { description, messages: value }
  return value
}

export function createPromptRegistry (prompts: readonly AnyPrompt[], services: ServerServices, timeoutMs?: number): PromptRegistry {
  const entries = new Map<string, PromptEntry>()
  let listResult: { prompts: Prompt[] } | undefined

  function add (prompt: AnyPrompt): void {
    if (typeof prompt?.name !== 'string' || prompt.name === '') throw configErrors.invalidDefinition('prompt', String(prompt?.name), '"name" must be a non-empty string')
    checkScopeNames('prompt', prompt.name, prompt.scopes)
    if (typeof prompt.handler !== 'function') throw configErrors.invalidDefinition('prompt', prompt.name, '"handler" must be a function')
    if (prompt.arguments !== undefined && !isObjectSchema(prompt.arguments)) {
      throw configErrors.invalidDefinition('prompt', prompt.name, '"arguments" must be an object schema, e.g. Type.Object({ topic: Type.String() })')
    }
    if (entries.has(prompt.name)) throw configErrors.duplicateDefinition('prompt', prompt.name)
    entries.set(prompt.name, {
      definition: prompt,
      descriptor: describe(prompt),
      args: prompt.arguments === undefined ? undefined : compileSchema(prompt.arguments)
    })
    listResult = undefined
  }

  function remove (name: string): boolean {
    if (!entries.delete(name)) return false
    listResult = undefined
    return true
  }

  for (const prompt of prompts) add(prompt)

  async function get (request: JsonRpcRequest, env: CallEnv): Promise<GetPromptResult | undefined> {
    const name = request.params?.name
    if (typeof name !== 'string') throw new JsonRpcError(ErrorCode.InvalidParams, 'prompts/get needs "name": the name of the prompt, as prompts/list gives it')
    const entry = entries.get(name)
    if (entry === undefined) throw new JsonRpcError(ErrorCode.InvalidParams, `Unknown prompt: ${quoteValue(name)}. Call prompts/list to see the prompts this server offers.`)
    const raw = request.params?.arguments ?? {}
    if (!isObjectValue(raw)) throw new JsonRpcError(ErrorCode.InvalidParams, `Invalid arguments for prompt "${name}": "arguments" must be an object of strings`)
    let args: unknown = raw
    if (entry.args !== undefined) {
      const checked = entry.args.check(raw)
      if (!checked.ok) throw new JsonRpcError(ErrorCode.InvalidParams, `Invalid arguments for prompt "${name}": ${checked.problems}`)
      args = checked.value
    }
    const prompt = entry.definition
    const outcome = await runHandler(env, request, timeoutMs, services, (ctx) => prompt.handler(args, ctx))
    switch (outcome.status) {
      case 'done': return normalizePromptReturn(outcome.value, prompt.description)
      case 'cancelled': return undefined
      case 'timeout': throw new JsonRpcError(ErrorCode.InternalError, `Prompt "${name}" timed out after ${outcome.timeoutMs} ms`)
      case 'failed':
        rethrowProtocolSignals(outcome.error)
        env.log.error({ err: outcome.error, prompt: name }, 'Prompt handler threw')
        throw new JsonRpcError(ErrorCode.InternalError, `Prompt "${name}" failed: ${errorMessage(outcome.error)}`)
    }
  }

  return {
    get size () { return entries.size },
    list: () => (listResult ??= { prompts: [...entries.values()].map((entry) => entry.descriptor) }),
    definitions: () => [...entries.values()].map((entry) => entry.definition),
    add,
    remove,
    get,
    completer: (prompt, argument) => (entries.get(prompt)?.definition.complete as Record<string, Completer> | undefined)?.[argument],
    has: (prompt) => entries.has(prompt)
  }
}
