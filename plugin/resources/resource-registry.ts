import { ErrorCode, JsonRpcError, type JsonRpcRequest, quoteValue } from '../protocol/jsonrpc.js'
import type { CallEnv } from '../protocol/call-env.js'
import type { ReadResourceResult, Resource, ResourceTemplate } from '../protocol/spec.js'
import { runHandler, errorMessage, rethrowProtocolSignals } from '../protocol/run-handler.js'
import type { ServerServices } from '../protocol/handler-context.js'
import { configErrors } from '../errors.js'
import { checkScopeNames } from '../scope-names.js'
import type { Completer } from '../completions/completer.js'
import { compileUriTemplate, UriTemplateError, type CompiledTemplate } from './uri-template.js'
import {
  isTemplate,
  type AnyResource, type ResourceContent, type ResourceReturn, type ResourceTemplateDefinition, type StaticResourceDefinition
} from './resource-definition.js'

/**
 * Longest URI matched against the templates (and quoted back in a not-found error). Matching is linear, but no
 * real resource URI comes near this: a longer one is refused before any matching.
 */
export const MAX_URI_LENGTH = 8192

interface TemplateEntry {
  definition: ResourceTemplateDefinition
  compiled: CompiledTemplate
}

export interface ResourceRegistry {
  readonly size: number
  list: () => { resources: Resource[] }
  listTemplates: () => { resourceTemplates: ResourceTemplate[] }
  /** The resources as they were defined: fixed ones, then templates, each in the order added. */
  definitions: () => AnyResource[]
  /** Adds a resource or template at run time; an invalid definition or a taken URI throws McpConfigError. */
  add: (resource: AnyResource) => void
  /** Removes the resource with this URI, or the template with this URI template; false if there was none. */
  remove: (uriOrTemplate: string) => boolean
  /** Handles `resources/read`; an unknown URI is JSON-RPC error -32002. */
  read: (request: JsonRpcRequest, env: CallEnv) => Promise<ReadResourceResult | undefined>
  /** The completer of a template variable, looked up by the template string. */
  completer: (uriTemplate: string, variable: string) => Completer | undefined
  hasTemplate: (uriTemplate: string) => boolean
}

function metadata<T extends object> (definition: AnyResource, base: T): T {
  const out: Record<string, unknown> = { ...base, name: definition.name }
  for (const key of ['title', 'description', 'mimeType', 'annotations'] as const) {
    if (definition[key] !== undefined) out[key] = definition[key]
  }
  return out as T
}

function toContent (uri: string, mimeType: string | undefined, value: ResourceContent | Uint8Array | string): ReadResourceResult['contents'][number] {
  if (typeof value === 'string') return { uri, mimeType: mimeType ?? 'text/plain', text: value }
  if (value instanceof Uint8Array) {
    return { uri, mimeType: mimeType ?? 'application/octet-stream', blob: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') }
  }
  const content = { ...value, uri: value.uri ?? uri }
  if (content.mimeType === undefined && mimeType !== undefined) content.mimeType = mimeType
  return content as ReadResourceResult['contents'][number]
}

/** Turns what a resource handler returned into a `resources/read` result. */
export function normalizeResourceReturn (uri: string, mimeType: string | undefined, value: ResourceReturn): ReadResourceResult {
  if (Array.isArray(value)) return { contents: value.map((item) => toContent(uri, mimeType, item)) }
  if (typeof value === 'object' && value !== null && 'contents' in value && Array.isArray(value.contents)) {
    return { contents: value.contents.map((item) => toContent(uri, mimeType, item)) }
  }
  return { contents: [toContent(uri, mimeType, value as ResourceContent | Uint8Array | string)] }
}

function check (resource: AnyResource): void {
  if (typeof resource !== 'object' || resource === null) throw configErrors.invalidDefinition('resource', String(resource), 'a resource must be an object')
  const label = isTemplate(resource) ? resource.uriTemplate : (resource as { uri?: unknown }).uri
  if (typeof resource.name !== 'string' || resource.name === '') {
    throw configErrors.invalidDefinition('resource', String(label), '"name" must be a non-empty string')
  }
  if (typeof resource.handler !== 'function') throw configErrors.invalidDefinition('resource', resource.name, '"handler" must be a function')
  if (!isTemplate(resource) && (typeof resource.uri !== 'string' || resource.uri === '')) {
    throw configErrors.invalidDefinition('resource', resource.name, 'give "uri" (a fixed resource) or "uriTemplate" (a template)')
  }
}

function compileTemplate (name: string, uriTemplate: string): CompiledTemplate {
  try {
    return compileUriTemplate(uriTemplate)
  } catch (error) {
    if (error instanceof UriTemplateError) throw configErrors.invalidDefinition('resource template', name, error.message)
    throw error
  }
}

export function createResourceRegistry (resources: readonly AnyResource[], services: ServerServices, timeoutMs?: number): ResourceRegistry {
  const fixed = new Map<string, StaticResourceDefinition>()
  const templates = new Map<string, TemplateEntry>()
  let listResult: { resources: Resource[] } | undefined
  let templatesResult: { resourceTemplates: ResourceTemplate[] } | undefined

  function add (resource: AnyResource): void {
    check(resource)
    checkScopeNames('resource', resource.name, resource.scopes)
    if (isTemplate(resource)) {
      if (templates.has(resource.uriTemplate)) throw configErrors.duplicateDefinition('resource template', resource.uriTemplate)
      templates.set(resource.uriTemplate, { definition: resource, compiled: compileTemplate(resource.name, resource.uriTemplate) })
      templatesResult = undefined
    } else {
      if (fixed.has(resource.uri)) throw configErrors.duplicateDefinition('resource', resource.uri)
      fixed.set(resource.uri, resource)
      listResult = undefined
    }
  }

  function remove (uriOrTemplate: string): boolean {
    if (fixed.delete(uriOrTemplate)) {
      listResult = undefined
      return true
    }
    if (!templates.delete(uriOrTemplate)) return false
    templatesResult = undefined
    return true
  }

  for (const resource of resources) add(resource)

  function list (): { resources: Resource[] } {
    return (listResult ??= {
      resources: [...fixed.values()].map((r) => metadata<Resource>(r, r.size === undefined ? { uri: r.uri } as Resource : { uri: r.uri, size: r.size } as Resource))
    })
  }

  function listTemplates (): { resourceTemplates: ResourceTemplate[] } {
    return (templatesResult ??= {
      resourceTemplates: [...templates.values()].map(({ definition }) => metadata<ResourceTemplate>(definition, { uriTemplate: definition.uriTemplate } as ResourceTemplate))
    })
  }

  function resolve (uri: string): { mimeType: string | undefined, run: (ctx: Parameters<StaticResourceDefinition['handler']>[1]) => ResourceReturn | Promise<ResourceReturn> } | undefined {
    const resource = fixed.get(uri)
    if (resource !== undefined) return { mimeType: resource.mimeType, run: (ctx) => resource.handler(uri, ctx) }
    if (uri.length > MAX_URI_LENGTH) {
      throw new JsonRpcError(ErrorCode.InvalidParams,
        `URI too long: ${uri.length} characters, and this server reads resource URIs of at most ${MAX_URI_LENGTH}; ` +
        'call resources/list and resources/templates/list to see what it offers', { maxLength: MAX_URI_LENGTH })
    }
    for (const { definition, compiled } of templates.values()) {
      const variables = compiled.match(uri)
      if (variables !== undefined) return { mimeType: definition.mimeType, run: (ctx) => definition.handler(uri, variables, ctx) }
    }
    return undefined
  }

  async function read (request: JsonRpcRequest, env: CallEnv): Promise<ReadResourceResult | undefined> {
    const uri = request.params?.uri
    if (typeof uri !== 'string') throw new JsonRpcError(ErrorCode.InvalidParams, 'resources/read needs "uri": the URI of the resource to read')
    const target = resolve(uri)
    if (target === undefined) {
      throw new JsonRpcError(ErrorCode.ResourceNotFound, `Resource not found: ${quoteValue(uri)}. Call resources/list and resources/templates/list to see what this server offers.`, { uri })
    }
    const outcome = await runHandler(env, request, timeoutMs, services, target.run)
    switch (outcome.status) {
      case 'done': return normalizeResourceReturn(uri, target.mimeType, outcome.value)
      case 'cancelled': return undefined
      case 'timeout': throw new JsonRpcError(ErrorCode.InternalError, `Reading ${quoteValue(uri)} timed out after ${outcome.timeoutMs} ms`)
      case 'failed':
        rethrowProtocolSignals(outcome.error)
        env.log.error({ err: outcome.error, uri }, 'Resource handler threw')
        throw new JsonRpcError(ErrorCode.InternalError, `Reading ${quoteValue(uri)} failed: ${errorMessage(outcome.error)}`)
    }
  }

  return {
    get size () { return fixed.size + templates.size },
    list,
    listTemplates,
    add,
    remove,
    read,
    completer: (uriTemplate, variable) =>
      (templates.get(uriTemplate)?.definition.complete as Record<string, Completer> | undefined)?.[variable],
    hasTemplate: (uriTemplate) => templates.has(uriTemplate),
    definitions: () => [...fixed.values(), ...[...templates.values()].map((entry) => entry.definition)]
  }
}
