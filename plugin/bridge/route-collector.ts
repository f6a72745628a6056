import type { FastifyInstance, RouteOptions, onRequestHookHandler } from 'fastify'
import { isMarked } from './route-config.js'
import { attachBridgedCall } from './bridged-call.js'
import type { SharedSchemas } from './schema-refs.js'

/** A route marked `config.mcp`, as the onRoute hook saw it. */
export interface CollectedRoute {
  method: string | string[]
  /** The full URL pattern, prefixes included. */
  url: string
  schema: RouteOptions['schema']
  config: unknown
  constraints: unknown
  /** The route option that makes it stream (`websocket`, `sse`), if any. */
  streamingOption: string | undefined
  /** The shared schemas (`addSchema`) visible where the route was registered, read when the bridge is built. */
  sharedSchemas: () => SharedSchemas
}

export interface RouteCollector {
  readonly routes: readonly CollectedRoute[]
  /** The onRoute hook: records marked routes and gives each the hook that lets a call abort it. */
  onRoute: (this: FastifyInstance, route: RouteOptions) => void
}

const STREAMING_OPTIONS = ['websocket', 'sse']

function hooksOf (value: RouteOptions['onRequest']): onRequestHookHandler[] {
  if (value === undefined) return []
  return (Array.isArray(value) ? value : [value]) as onRequestHookHandler[]
}

/**
 * Sees every route registered after the plugin, in any encapsulated child too, and keeps those marked
 * `config.mcp`. Nothing else is done per route, and nothing per request unless a route is marked.
 */
export function createRouteCollector (): RouteCollector {
  const routes: CollectedRoute[] = []
  // Fastify adds a HEAD twin to every GET route, with the same config object: that twin is no tool of its own.
  const getRoutes = new WeakMap<object, string>()

  function onRoute (this: FastifyInstance, route: RouteOptions): void {
    if (!isMarked(route.config)) return
    const config = route.config as object
    if (route.method === 'HEAD' && getRoutes.get(config) === route.url) return
    const instance = this
    const options = route as RouteOptions & Record<string, unknown>
    routes.push({
      method: route.method,
      url: route.url,
      schema: route.schema,
      config: route.config,
      constraints: route.constraints,
      streamingOption: STREAMING_OPTIONS.find((option) => options[option] !== undefined && options[option] !== false),
      sharedSchemas: () => instance.getSchemas() as SharedSchemas
    })
    if (route.method === 'GET' || (Array.isArray(route.method) && route.method.includes('GET'))) getRoutes.set(config, route.url)
    route.onRequest = [attachBridgedCall as onRequestHookHandler, ...hooksOf(route.onRequest)]
  }

  return { routes, onRoute }
}
