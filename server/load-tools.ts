import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { AnyTool } from '../plugin/core.js'
import { ConfigError } from './config.js'

/** Imports the user's tools module: an ES module whose default export is an array of tool objects. */
export async function loadTools (path: string): Promise<AnyTool[]> {
  let module: { default?: unknown }
  try {
    module = await import(pathToFileURL(resolve(path)).href)
  } catch (error) {
    throw new ConfigError(`Cannot load the tools module "${path}" (--tools / MCP_TOOLS): ${(error as Error).message}`)
  }
  if (!Array.isArray(module.default)) {
    throw new ConfigError(`The tools module "${path}" must have a default export that is an array of tools, e.g. export default [defineTool({ ... })]`)
  }
  return module.default as AnyTool[]
}
