import { STATUS_CODES } from 'node:http'
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import type { CallToolResult } from '../protocol/spec.js'
import { httpOriginOf, type HandlerContext } from '../protocol/handler-context.js'
import type { CompiledSchema } from '../protocol/schema-check.js'
import { structuredResult, toolError } from '../tools/tool-result.js'
import { BridgedCall } from './bridged-call.js'
import { fillRoutePath } from './route-path.js'
import { isJsonMedia, isTextMedia, WRAPPED_RESULT } from './output-schema.js'
import type { RoutePlan } from './route-plan.js'

/** What every bridged call shares: the app to inject into and the headers copied from the MCP request. */
export interface BridgeRuntime {
  app: FastifyInstance
  forwardHeaders: readonly string[]
}

/** How much of an error body a tool error quotes; the rest is cut, with a note saying how much. */
export const MAX_ERROR_BODY = 2000
const ACCEPT = 'application/json, text/plain;q=0.9, */*;q=0.1'
const USER_AGENT = 'fastify-mcp-host-bridge'
/**
 * The route's request.ip when the MCP request's address is unknown (its connection already gone): not loopback,
 * which inject would otherwise claim and a hook trusting local callers would believe.
 */
const UNKNOWN_ADDRESS = '0.0.0.0'

interface RequestParts {
  params: Record<string, unknown>
  query: Record<string, unknown>
  headers: Record<string, string>
  body: unknown
}

/** Sends each argument where the route expects it: path, query string, header or body. */
function splitArguments (plan: RoutePlan, args: Record<string, unknown>): RequestParts {
  const parts: RequestParts = { params: {}, query: {}, headers: {}, body: undefined }
  const listed = new Set<string>()
  let fields: Record<string, unknown> | undefined = plan.input.body.kind === 'fields' ? {} : undefined
  for (const target of plan.input.targets) {
    listed.add(target.argument)
    const value = args[target.argument]
    if (value === undefined) continue
    switch (target.part) {
      case 'params': parts.params[target.field] = value; break
      case 'querystring': parts.query[target.field] = value; break
      case 'headers': parts.headers[target.field] = String(value); break
      case 'body':
        if (target.field === '') parts.body = value
        else (fields ??= {})[target.field] = value
    }
  }
  if (plan.input.body.kind === 'fields' && plan.input.body.extra && fields !== undefined) {
    for (const [name, value] of Object.entries(args)) if (!listed.has(name)) fields[name] = value
  }
  if (fields !== undefined) parts.body = fields
  return parts
}

function queryString (query: Record<string, unknown>): string {
  const search = new URLSearchParams()
  for (const [name, value] of Object.entries(query)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item === null || item === undefined) continue
      search.append(name, typeof item === 'object' ? JSON.stringify(item) : String(item))
    }
  }
  const text = search.toString()
  return text === '' ? '' : `?${text}`
}

function requestHeaders (runtime: BridgeRuntime, ctx: HandlerContext, own: Record<string, string>, hasBody: boolean): Record<string, string> {
  const headers: Record<string, string> = { accept: ACCEPT, 'user-agent': USER_AGENT }
  const origin = httpOriginOf(ctx)
  for (const name of runtime.forwardHeaders) {
    const value = origin?.headers[name]
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value
  }
  Object.assign(headers, own)
  if (hasBody) headers['content-type'] = 'application/json'
  return headers
}

export function cut (text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit)}… (${text.length - limit} more characters)`
}

function statusLine (status: number): string {
  return `${status} ${STATUS_CODES[status] ?? ''}`.trim()
}

function failure (plan: RoutePlan, response: LightMyRequestResponse, ctx: HandlerContext): CallToolResult {
  const status = response.statusCode
  if (status >= 500) ctx.log.error({ tool: plan.name, route: plan.label, statusCode: status, body: cut(response.body, 500) }, 'Bridged route failed')
  const body = response.body === '' ? '(no body)' : cut(response.body, MAX_ERROR_BODY)
  return toolError(`${plan.label} answered ${statusLine(status)}: ${body}`)
}

function checked (plan: RoutePlan, structured: Record<string, unknown>, check: CompiledSchema | undefined, ctx: HandlerContext): CallToolResult {
  if (check !== undefined) {
    const result = check.check(structured)
    if (!result.ok) {
      ctx.log.error({ tool: plan.name, route: plan.label, problems: result.problems }, 'Bridged route answered outside its response schema')
      return toolError(`${plan.label} answered with a body that does not match its response schema: ${result.problems}`)
    }
  }
  return structuredResult(structured)
}

function isPlainObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** A 2xx answer as a tool result: JSON objects as structured content, other JSON under `result`, text as text. */
function success (plan: RoutePlan, response: LightMyRequestResponse, check: CompiledSchema | undefined, ctx: HandlerContext): CallToolResult {
  const media = String(response.headers['content-type'] ?? '')
  const output = plan.output
  if (response.rawPayload.length === 0) return { content: [{ type: 'text', text: `${plan.label} answered ${statusLine(response.statusCode)}` }] }
  if (isJsonMedia(media)) {
    let value: unknown
    try {
      value = JSON.parse(response.body)
    } catch {
      return toolError(`${plan.label} answered ${media} that is not valid JSON: ${cut(response.body, MAX_ERROR_BODY)}`)
    }
    if (output.kind === 'wrapped') return checked(plan, { [WRAPPED_RESULT]: value }, check, ctx)
    if (isPlainObject(value)) return checked(plan, value, check, ctx)
    if (output.kind === 'object') {
      return toolError(`${plan.label} answered ${JSON.stringify(value)?.slice(0, 100)} where its response schema promises an object`)
    }
    return structuredResult({ [WRAPPED_RESULT]: value })
  }
  if (media === '' || isTextMedia(media)) {
    if (output.kind === 'undeclared') return { content: [{ type: 'text', text: response.body }] }
    if (output.kind === 'wrapped') return checked(plan, { [WRAPPED_RESULT]: response.body }, check, ctx)
    return toolError(`${plan.label} answered ${media === '' ? 'a body without a content type' : media} where its response schema promises a JSON object`)
  }
  return toolError(`${plan.label} answered ${media}, which the bridge cannot return as a tool result (only JSON and text)`)
}

/**
 * Runs the route for one tool call through `fastify.inject`, so the app's hooks, validation, serialization and
 * error handling all apply, with the MCP call on `request.mcpBridge`. Stopping the call (cancellation, timeout,
 * the client gone) aborts the route's request.
 */
export async function callRoute (
  plan: RoutePlan,
  runtime: BridgeRuntime,
  args: Record<string, unknown>,
  ctx: HandlerContext,
  check: CompiledSchema | undefined
): Promise<CallToolResult> {
  const parts = splitArguments(plan, args)
  // Frozen copies: a route that changed what it was given must not change the identity sessions are bound to.
  const auth = ctx.auth === undefined ? undefined : Object.freeze({ ...ctx.auth })
  const call = new BridgedCall(
    Object.freeze({ tool: plan.name, auth, transport: ctx.transport, sessionId: ctx.sessionId, requestId: ctx.requestId }),
    ctx.signal
  )
  const options: InjectOptions = {
    method: plan.method as InjectOptions['method'],
    url: fillRoutePath(plan.segments, parts.params) + queryString(parts.query),
    headers: requestHeaders(runtime, ctx, parts.headers, parts.body !== undefined),
    Request: call.requestClass()
  }
  // On stdio the caller is the local process that started us: inject's loopback is right. Over HTTP without an
  // origin (a message another replica relayed here), the address is unknown.
  const origin = httpOriginOf(ctx)
  if (origin !== undefined) options.remoteAddress = origin.ip ?? UNKNOWN_ADDRESS
  else if (ctx.transport !== 'stdio') options.remoteAddress = UNKNOWN_ADDRESS
  if (parts.body !== undefined) options.payload = JSON.stringify(parts.body)
  const response = await runtime.app.inject(options)
  const status = response.statusCode
  return status >= 200 && status < 300 ? success(plan, response, check, ctx) : failure(plan, response, ctx)
}
