import type { ListKind } from '../protocol/spec.js'
import type { ToolRegistry } from '../tools/tool-registry.js'
import type { AnyTool } from '../tools/tool-definition.js'
import type { ResourceRegistry } from '../resources/resource-registry.js'
import type { AnyResource } from '../resources/resource-definition.js'
import type { PromptRegistry } from '../prompts/prompt-registry.js'
import type { AnyPrompt } from '../prompts/prompt-definition.js'

/** Tools, resources and prompts added and removed while the server runs; clients are told the lists changed. */
export interface RuntimeDefinitions {
  /**
   * Adds a tool while the server runs; clients are told the list changed (one notification for the changes made
   * in one go). An invalid definition or a name already taken throws McpConfigError and changes nothing.
   */
  addTool: (tool: AnyTool) => void
  /** Removes a tool by name and tells clients; false if there was none. Calls already running finish. */
  removeTool: (name: string) => boolean
  /**
   * Adds a resource or resource template; an invalid one or a URI (template) already taken throws McpConfigError.
   * A server that started without resources serves them from then on; clients connected before learn of it when
   * they reconnect (capabilities are told once, on connect).
   */
  addResource: (resource: AnyResource) => void
  /** Removes the resource with this URI, or the template with this URI template; false if there was none. */
  removeResource: (uriOrTemplate: string) => boolean
  /** Adds a prompt; an invalid definition or a name already taken throws McpConfigError (see `addResource`). */
  addPrompt: (prompt: AnyPrompt) => void
  /** Removes a prompt by name; false if there was none. */
  removePrompt: (name: string) => boolean
}

export interface RuntimeDefinitionsDeps {
  tools: ToolRegistry
  resources: ResourceRegistry
  prompts: PromptRegistry
  /** Serves a kind the server started without (its methods, its capability) once its first definition exists. */
  enable: (kind: 'resources' | 'prompts') => void
  /** Tells subscribed clients that a list changed. */
  listChanged: (kind: ListKind) => void
}

/**
 * Coalesces list-changed notifications: changes made in one synchronous run (a batch of tools added at start-up,
 * a plugin swapping its tools) reach each client as one notification per list.
 */
export function createListChangeQueue (send: (kind: ListKind) => void): (kind: ListKind) => void {
  const pending = new Set<ListKind>()
  return (kind) => {
    if (pending.has(kind)) return
    pending.add(kind)
    queueMicrotask(() => {
      pending.delete(kind)
      send(kind)
    })
  }
}

export function createRuntimeDefinitions (deps: RuntimeDefinitionsDeps): RuntimeDefinitions {
  const { tools, resources, prompts, enable } = deps
  const changed = createListChangeQueue(deps.listChanged)

  function removed (kind: ListKind, found: boolean): boolean {
    if (found) changed(kind)
    return found
  }

  return {
    addTool (tool) {
      tools.add(tool)
      changed('tools')
    },
    removeTool: (name) => removed('tools', tools.remove(name)),
    addResource (resource) {
      resources.add(resource)
      enable('resources')
      changed('resources')
    },
    removeResource: (uriOrTemplate) => removed('resources', resources.remove(uriOrTemplate)),
    addPrompt (prompt) {
      prompts.add(prompt)
      enable('prompts')
      changed('prompts')
    },
    removePrompt: (name) => removed('prompts', prompts.remove(name))
  }
}
