import { context, createContextKey, SpanKind, SpanStatusCode, trace, type Attributes, type Link, type Span } from '@opentelemetry/api'
import type { JsonRpcRequest, JsonRpcResponse } from '../../protocol/jsonrpc.js'
import type { CallEnv } from '../../protocol/call-env.js'
import type { CallObserver } from '../../dispatch/call-observer.js'
import { PACKAGE_NAME, PACKAGE_VERSION } from '../../version.js'
import { outcomeOf, targetOf } from '../call-outcome.js'
import { parentFromMeta } from './trace-parent.js'

/** Our span in the context a handler runs in, so that progress lands on it even under the handler's own spans. */
const MCP_SPAN = createContextKey('fastify-mcp-host server span')

function protocolVersionOf (env: CallEnv): string | undefined {
  if (env.modern !== undefined) return env.modern.protocolVersion
  if (env.session?.protocolVersion !== undefined) return env.session.protocolVersion
  const header = env.http?.headers['mcp-protocol-version']
  return typeof header === 'string' ? header : undefined
}

/** The span's attributes at its start, by the OpenTelemetry semantic conventions for MCP (server spans). */
function startAttributes (request: JsonRpcRequest, env: CallEnv): Attributes {
  const attributes: Attributes = {
    'mcp.method.name': request.method,
    'jsonrpc.request.id': String(request.id),
    'network.transport': env.transport === 'stdio' ? 'pipe' : 'tcp'
  }
  const target = targetOf(request)
  if (target?.kind === 'tool') {
    attributes['gen_ai.tool.name'] = target.name
    attributes['gen_ai.operation.name'] = 'execute_tool'
  } else if (target?.kind === 'prompt') {
    attributes['gen_ai.prompt.name'] = target.name
  } else if (target?.kind === 'resource') {
    attributes['mcp.resource.uri'] = target.name
  }
  if (env.session !== undefined) attributes['mcp.session.id'] = env.session.id
  const version = protocolVersionOf(env)
  if (version !== undefined) attributes['mcp.protocol.version'] = version
  if (env.http !== undefined) {
    attributes['network.protocol.name'] = 'http'
    if (env.http.ip !== undefined) attributes['client.address'] = env.http.ip
  }
  return attributes
}

function spanName (request: JsonRpcRequest): string {
  const target = targetOf(request)
  return target !== undefined && target.kind !== 'resource' ? `${request.method} ${target.name}` : request.method
}

function endSpan (span: Span, response: JsonRpcResponse | undefined): void {
  const outcome = outcomeOf(response)
  if (outcome === 'error') {
    const { code, message } = (response as { error: { code: number, message: string } }).error
    span.setAttribute('error.type', String(code))
    span.setAttribute('rpc.response.status_code', String(code))
    span.setStatus({ code: SpanStatusCode.ERROR, message })
  } else if (outcome === 'tool_error') {
    span.setAttribute('error.type', 'tool_error')
    const content = (response as { result: { content?: Array<{ type?: string, text?: string }> } }).result.content
    const text = Array.isArray(content) ? content.find((part) => part?.type === 'text')?.text : undefined
    span.setStatus({ code: SpanStatusCode.ERROR, message: typeof text === 'string' ? text.slice(0, 256) : 'tool_error' })
  } else if (outcome === 'cancelled') {
    span.addEvent('mcp.request.cancelled')
    span.setAttribute('error.type', 'cancelled')
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'The request was cancelled or its client went away' })
  }
  span.end()
}

interface Watch { span: Span, context: ReturnType<typeof context.active> }

/**
 * A SERVER span per MCP request. Its parent is the trace context the client sent in `params._meta` when there is
 * one (the HTTP span then linked), else the active context (the HTTP span an instrumentation such as
 * `@fastify/otel` made). The handler runs inside the span's context; progress is an event on the span,
 * cancellation ends it with `error.type` `cancelled`, failures set `error.type` and the status.
 */
export async function createTracing (): Promise<CallObserver> {
  const tracer = trace.getTracer(PACKAGE_NAME, PACKAGE_VERSION)
  return {
    begin (request, env): Watch {
      const ambient = context.active()
      const remote = parentFromMeta(request.params?._meta)
      const ambientSpan = remote === undefined ? undefined : trace.getSpanContext(ambient)
      const links: Link[] | undefined = ambientSpan === undefined ? undefined : [{ context: ambientSpan }]
      const parent = remote ?? ambient
      const span = tracer.startSpan(spanName(request), { kind: SpanKind.SERVER, attributes: startAttributes(request, env), links }, parent)
      return { span, context: trace.setSpan(parent, span).setValue(MCP_SPAN, span) }
    },
    within: (watch, run) => context.with((watch as Watch).context, run),
    end (_request, _env, response, watch) {
      endSpan((watch as Watch).span, response)
    },
    progress (_request, notification) {
      const span = context.active().getValue(MCP_SPAN) as Span | undefined
      const params = notification.params ?? {}
      const attributes: Attributes = {}
      if (typeof params.progress === 'number') attributes['mcp.progress'] = params.progress
      if (typeof params.total === 'number') attributes['mcp.progress.total'] = params.total
      span?.addEvent('notifications/progress', attributes)
    }
  }
}
