import { checkScopeNames } from '../scope-names.js'
import type { AnyTool } from '../tools/tool-definition.js'
import type { AnyPrompt } from '../prompts/prompt-definition.js'
import { isTemplate, type AnyResource } from '../resources/resource-definition.js'
import { compileUriTemplate, type CompiledTemplate } from '../resources/uri-template.js'
import { isObjectValue } from '../protocol/jsonrpc.js'

/** Which scopes each tool, resource and prompt declares, looked up by what a request names. */
export interface OperationScopes {
  /** Every scope any definition declares (for the metadata's `scopes_supported`). */
  readonly all: readonly string[]
  /** The scopes a request needs, from its method and params (2025 era, or any body); empty when none. */
  forRequest: (method: string, params: Record<string, unknown> | undefined) => readonly string[]
  /** The same from the 2026-07-28 `Mcp-Method` and `Mcp-Name` headers, before the body is read. */
  forName: (method: string, name: string) => readonly string[]
}

const NONE: readonly string[] = Object.freeze([])

function declared (kind: string, name: string, scopes: unknown): readonly string[] | undefined {
  checkScopeNames(kind, name, scopes)
  return scopes === undefined || (scopes as string[]).length === 0 ? undefined : Object.freeze([...new Set(scopes as string[])])
}

function union (lists: Array<readonly string[]>): readonly string[] {
  const nonEmpty = lists.filter((list) => list.length > 0)
  if (nonEmpty.length <= 1) return nonEmpty[0] ?? NONE
  return [...new Set(nonEmpty.flat())]
}

export function collectOperationScopes (tools: readonly AnyTool[], resources: readonly AnyResource[], prompts: readonly AnyPrompt[]): OperationScopes {
  const toolScopes = new Map<string, readonly string[]>()
  for (const tool of tools) {
    const scopes = declared('tool', tool.name, tool.scopes)
    if (scopes !== undefined) toolScopes.set(tool.name, scopes)
  }
  const promptScopes = new Map<string, readonly string[]>()
  for (const prompt of prompts) {
    const scopes = declared('prompt', prompt.name, prompt.scopes)
    if (scopes !== undefined) promptScopes.set(prompt.name, scopes)
  }
  // The same order the resource registry resolves a URI in: fixed URIs, then templates as given.
  const fixedScopes = new Map<string, readonly string[]>()
  const templates: Array<{ template: string, compiled: CompiledTemplate, scopes: readonly string[] }> = []
  for (const resource of resources) {
    const scopes = declared('resource', resource.name, resource.scopes) ?? NONE
    if (isTemplate(resource)) templates.push({ template: resource.uriTemplate, compiled: compileUriTemplate(resource.uriTemplate), scopes })
    else fixedScopes.set(resource.uri, scopes)
  }
  const scopedTemplates = templates.some((entry) => entry.scopes.length > 0)

  function forUri (uri: unknown): readonly string[] {
    if (typeof uri !== 'string') return NONE
    const fixed = fixedScopes.get(uri)
    if (fixed !== undefined) return fixed
    if (!scopedTemplates) return NONE
    return templates.find((entry) => entry.compiled.match(uri) !== undefined)?.scopes ?? NONE
  }

  function forName (method: string, name: string): readonly string[] {
    if (method === 'tools/call') return toolScopes.get(name) ?? NONE
    if (method === 'prompts/get') return promptScopes.get(name) ?? NONE
    if (method === 'resources/read') return forUri(name)
    return NONE
  }

  function forCompletion (ref: unknown): readonly string[] {
    if (!isObjectValue(ref)) return NONE
    if (ref.type === 'ref/prompt' && typeof ref.name === 'string') return promptScopes.get(ref.name) ?? NONE
    if (ref.type === 'ref/resource') return templates.find((entry) => entry.template === ref.uri)?.scopes ?? NONE
    return NONE
  }

  function forRequest (method: string, params: Record<string, unknown> | undefined): readonly string[] {
    switch (method) {
      case 'tools/call':
      case 'prompts/get':
        return typeof params?.name === 'string' ? forName(method, params.name) : NONE
      case 'resources/read':
      case 'resources/subscribe':
        return forUri(params?.uri)
      case 'completion/complete':
        return forCompletion(params?.ref)
      case 'subscriptions/listen': {
        const uris = isObjectValue(params?.notifications) ? params.notifications.resourceSubscriptions : undefined
        return Array.isArray(uris) ? union(uris.map(forUri)) : NONE
      }
      default:
        return NONE
    }
  }

  const all = new Set<string>()
  for (const list of [...toolScopes.values(), ...promptScopes.values(), ...fixedScopes.values(), ...templates.map((entry) => entry.scopes)]) {
    for (const scope of list) all.add(scope)
  }
  return { all: [...all], forRequest, forName }
}
