import type { ToolAnnotations } from '../protocol/spec.js'
import type { CollectedRoute } from './route-collector.js'
import { readRouteOptions } from './route-config.js'
import { SchemaProblem } from './schema-problem.js'
import { toolSchemaOf, type SharedSchemas } from './schema-refs.js'
import { mergeInputSchema, type MergedInput } from './schema-merge.js'
import { isJsonMedia, outputShape, type OutputShape } from './output-schema.js'
import { isSchemaObject } from './schema-walk.js'
import { parseRoutePath, type PathSegment } from './route-path.js'
import { annotationsFromMethod, isToolName, nameFromOperationId, nameFromRoute, toolText } from './tool-naming.js'

/** Everything a bridged tool needs to know about its route, worked out once at start-up. */
export interface RoutePlan {
  method: string
  url: string
  /** `GET /todos/:id`: how errors and logs name the route. */
  label: string
  segments: PathSegment[]
  name: string
  title: string | undefined
  description: string
  annotations: ToolAnnotations
  scopes: string[] | undefined
  timeoutMs: number | undefined
  input: MergedInput
  output: OutputShape
}

type RouteSchema = Record<string, unknown>

/** A fluent-json-schema object is turned into plain JSON Schema the way Fastify does. */
function plain (schema: unknown): unknown {
  if (isSchemaObject(schema) && (schema.isFluentSchema === true || schema.isFluentJSONSchema === true) && typeof schema.valueOf === 'function') {
    return (schema.valueOf as () => unknown)()
  }
  return schema
}

function onlyMethod (method: string | string[]): string {
  if (!Array.isArray(method)) return method
  // GET with its HEAD spelt out is still one GET.
  const methods = method.includes('GET') ? method.filter((name) => name !== 'HEAD') : method
  if (methods.length === 1) return methods[0]
  throw new SchemaProblem(`it answers several methods (${method.join(', ')}): mark a route with one method, so the tool has one meaning`)
}

/** The JSON body schema (`body`, or `body.content['application/json'].schema`). */
function bodySchema (schema: RouteSchema): unknown {
  const body = plain(schema.body)
  if (!isSchemaObject(body) || !isSchemaObject(body.content)) return body
  const media = Object.keys(body.content)
  const json = media.find(isJsonMedia)
  if (json === undefined) throw new SchemaProblem(`its body is ${media.join(', ')}: the bridge sends JSON bodies only`)
  return (body.content[json] as { schema?: unknown }).schema
}

function checkRoute (route: CollectedRoute, method: string): void {
  if (method === 'HEAD') throw new SchemaProblem('a HEAD reply has no body for a tool to return (mark the GET route instead)')
  if (route.streamingOption !== undefined) throw new SchemaProblem(`its "${route.streamingOption}" option makes it stream, and a tool call needs one complete answer`)
  if (isSchemaObject(route.constraints) && Object.keys(route.constraints).length > 0) {
    throw new SchemaProblem(`it has route constraints (${Object.keys(route.constraints).join(', ')}), which a tool call cannot choose between`)
  }
}

function toolName (explicit: string | undefined, operationId: unknown, method: string, url: string): string {
  if (explicit !== undefined) {
    if (!isToolName(explicit)) throw new SchemaProblem(`config.mcp.name "${explicit}" must be 1-128 letters, digits, "_", "-" or "."`)
    return explicit
  }
  return (typeof operationId === 'string' ? nameFromOperationId(operationId) : undefined) ?? nameFromRoute(method, url)
}

/**
 * Works out a marked route's tool: name, text, annotations, input and output schemas. Anything the bridge cannot
 * express throws a SchemaProblem saying why; the caller names the route.
 */
export function planRoute (route: CollectedRoute, forwardedHeaders: readonly string[], shared: SharedSchemas): RoutePlan {
  const method = onlyMethod(route.method)
  checkRoute(route, method)
  const options = readRouteOptions(route.config)
  const schema = (isSchemaObject(route.schema) ? route.schema : {}) as RouteSchema
  const part = (value: unknown): unknown => value === undefined ? undefined : toolSchemaOf(plain(value), shared)
  const input = mergeInputSchema({
    url: route.url,
    params: part(schema.params),
    querystring: part(schema.querystring ?? schema.query),
    headers: part(schema.headers),
    body: part(bodySchema(schema)),
    headerArguments: options.headers === true,
    forwardedHeaders
  })
  const text = toolText(method, route.url, schema, options)
  return {
    method,
    url: route.url,
    label: `${method} ${route.url}`,
    segments: parseRoutePath(route.url),
    name: toolName(options.name, schema.operationId, method, route.url),
    title: text.title,
    description: text.description,
    annotations: { ...annotationsFromMethod(method), ...options.annotations },
    scopes: options.scopes,
    timeoutMs: options.timeoutMs,
    input,
    output: outputShape(plain(schema.response), shared)
  }
}
