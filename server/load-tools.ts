import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { AnyPrompt, AnyResource, AnyTool } from '../plugin/core.js'
import { ConfigError } from './config-error.js'

/** What a tools module offers; `resources` and `prompts` are empty when it exports only tools. */
export interface LoadedDefinitions {
  tools: AnyTool[]
  resources: AnyResource[]
  prompts: AnyPrompt[]
}

const KINDS = ['tools', 'resources', 'prompts'] as const

const SHAPES = 'an array of tools, e.g. export default [defineTool({ ... })], ' +
  'or an object of arrays, e.g. export default { tools: [defineTool({ ... })], resources: [...], prompts: [...] }'

function describe (value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'object' ? 'an object' : typeof value
}

/** Checks the object form, `{ tools?, resources?, prompts? }`, naming the key at fault. */
function fromObject (path: string, exported: Record<string, unknown>): LoadedDefinitions {
  const unknown = Object.keys(exported).filter((key) => !(KINDS as readonly string[]).includes(key))
  if (unknown.length > 0) {
    throw new ConfigError(`The default export of the tools module "${path}" has unknown keys (${unknown.join(', ')}): ` +
      'it may hold only tools, resources and prompts')
  }
  if (!KINDS.some((kind) => exported[kind] !== undefined)) {
    throw new ConfigError(`The default export of the tools module "${path}" is an object without tools, resources or prompts: it must be ${SHAPES}`)
  }
  for (const kind of KINDS) {
    const list = exported[kind]
    if (list !== undefined && !Array.isArray(list)) {
      throw new ConfigError(`"${kind}" in the default export of the tools module "${path}" must be an array, got ${describe(list)}`)
    }
  }
  return {
    tools: (exported.tools ?? []) as AnyTool[],
    resources: (exported.resources ?? []) as AnyResource[],
    prompts: (exported.prompts ?? []) as AnyPrompt[]
  }
}

/**
 * Imports the user's tools module: an ES module whose default export is an array of tools, or an object
 * `{ tools?, resources?, prompts? }` of arrays made with defineTool, defineResource and definePrompt.
 */
export async function loadTools (path: string): Promise<LoadedDefinitions> {
  let module: { default?: unknown }
  try {
    module = await import(pathToFileURL(resolve(path)).href)
  } catch (error) {
    throw new ConfigError(`Cannot load the tools module "${path}" (--tools / MCP_TOOLS): ${(error as Error).message}`)
  }
  const exported = module.default
  if (Array.isArray(exported)) return { tools: exported as AnyTool[], resources: [], prompts: [] }
  if (typeof exported !== 'object' || exported === null) {
    throw new ConfigError(`The tools module "${path}" must have a default export that is ${SHAPES}; got ${exported === undefined ? 'no default export' : describe(exported)}`)
  }
  return fromObject(path, exported as Record<string, unknown>)
}
