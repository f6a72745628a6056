import type { FastifyInstance } from 'fastify'
import { configErrors, McpConfigError } from '../errors.js'
import type { RuntimeDefinitions } from '../dispatch/runtime-definitions.js'
import type { ToolRegistry } from '../tools/tool-registry.js'
import type { CollectedRoute } from './route-collector.js'
import { planRoute, type RoutePlan } from './route-plan.js'
import { SchemaProblem } from './schema-problem.js'
import { createRouteTool, type BridgedToolDefinition } from './route-tool.js'

/** A route serving as a tool, as `fastify.mcp.bridgedTools()` lists it. */
export interface BridgedTool {
  /** The tool's name. */
  name: string
  method: string
  url: string
}

export interface BridgeSetup {
  app: FastifyInstance
  routes: readonly CollectedRoute[]
  forwardHeaders: readonly string[]
  dispatcher: RuntimeDefinitions & { tools: ToolRegistry }
}

function plan (route: CollectedRoute, forwardHeaders: readonly string[]): RoutePlan {
  const method = Array.isArray(route.method) ? route.method.join(',') : route.method
  try {
    return planRoute(route, forwardHeaders, route.sharedSchemas())
  } catch (error) {
    if (error instanceof SchemaProblem) throw configErrors.unbridgeableRoute(`${method} ${route.url}`, error.message)
    throw error
  }
}

function checkNames (plans: readonly RoutePlan[], tools: ToolRegistry): void {
  const owners = new Map<string, RoutePlan>()
  for (const planned of plans) {
    const owner = owners.get(planned.name)
    if (owner !== undefined) throw configErrors.bridgedNameTaken(planned.name, owner.label, planned.label)
    if (tools.has(planned.name)) throw configErrors.bridgedNameTaken(planned.name, planned.label, 'a tool given to the plugin')
    owners.set(planned.name, planned)
  }
}

/**
 * Turns every marked route into a tool and adds them all, or none: any route that cannot be bridged, or two that
 * would share a name, fail start-up with an error naming the route(s) and why.
 */
export function bridgeRoutes (setup: BridgeSetup): BridgedTool[] {
  const plans = setup.routes.map((route) => plan(route, setup.forwardHeaders))
  checkNames(plans, setup.dispatcher.tools)
  const runtime = { app: setup.app, forwardHeaders: setup.forwardHeaders }
  const tools: Array<[RoutePlan, BridgedToolDefinition]> = plans.map((planned) => [planned, createRouteTool(planned, runtime)])
  const added: string[] = []
  try {
    for (const [planned, tool] of tools) {
      try {
        setup.dispatcher.addTool(tool)
      } catch (error) {
        const why = error instanceof McpConfigError ? error.message : String(error)
        throw configErrors.unbridgeableRoute(planned.label, `its tool schema was refused: ${why}`)
      }
      added.push(tool.name)
    }
  } catch (error) {
    for (const name of added) setup.dispatcher.removeTool(name)
    throw error
  }
  return plans.map((planned) => ({ name: planned.name, method: planned.method, url: planned.url }))
}
