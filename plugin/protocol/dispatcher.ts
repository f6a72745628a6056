import {
  ErrorCode, JsonRpcError, failure, success,
  type JsonRpcNotification, type JsonRpcRequest, type JsonRpcResponse
} from './jsonrpc.js'
import type { CallEnv } from './call-env.js'
import type { Implementation, ServerCapabilities } from './spec.js'
import { isLoggingLevel } from './handler-context.js'
import { RequestCancelledError, errorMessage } from './run-handler.js'
import { negotiateLegacyVersion } from './versions.js'
import { createToolRegistry, type ToolRegistry } from '../tools/tool-registry.js'
import type { AnyTool } from '../tools/tool-definition.js'

/** Everything the server offers, independent of any transport. */
export interface McpServerDefinition {
  info: Implementation
  /** Sent to clients on initialize: how to use this server's tools. */
  instructions?: string
  tools: readonly AnyTool[]
  /** Default per-call timeout for handlers, in ms; 0 or undefined for none. */
  toolTimeoutMs?: number
}

export interface Dispatcher {
  readonly info: Implementation
  readonly tools: ToolRegistry
  /** Answers one request. Resolves to undefined when the client cancelled it (no response is due). Never rejects. */
  handleRequest: (request: JsonRpcRequest, env: CallEnv) => Promise<JsonRpcResponse | undefined>
  handleNotification: (notification: JsonRpcNotification, env: CallEnv) => void
}

type Result = Record<string, unknown>
type MethodHandler = (request: JsonRpcRequest, env: CallEnv) => Result | undefined | Promise<Result | undefined>

const EMPTY_RESULT: Result = Object.freeze({}) as Result

export function createDispatcher (definition: McpServerDefinition): Dispatcher {
  const tools = createToolRegistry(definition.tools, definition.toolTimeoutMs)
  const capabilities: ServerCapabilities = { tools: { listChanged: false }, logging: {} }

  function initialize (request: JsonRpcRequest, env: CallEnv): Result {
    const params = request.params ?? {}
    if (typeof params.protocolVersion !== 'string') {
      throw new JsonRpcError(ErrorCode.InvalidParams, 'initialize needs "protocolVersion": the MCP revision the client speaks, e.g. "2025-11-25"')
    }
    const protocolVersion = negotiateLegacyVersion(params.protocolVersion)
    const session = env.session
    if (session !== undefined) {
      session.protocolVersion = protocolVersion
      session.clientInfo = params.clientInfo as Implementation | undefined
      session.clientCapabilities = params.capabilities as Record<string, unknown> | undefined
    }
    const result: Result = { protocolVersion, capabilities, serverInfo: definition.info }
    if (definition.instructions !== undefined) result.instructions = definition.instructions
    return result
  }

  function setLogLevel (request: JsonRpcRequest, env: CallEnv): Result {
    const level = request.params?.level
    if (!isLoggingLevel(level)) {
      throw new JsonRpcError(ErrorCode.InvalidParams,
        'logging/setLevel needs "level": one of debug, info, notice, warning, error, critical, alert, emergency')
    }
    if (env.session !== undefined) env.session.logLevel = level
    return EMPTY_RESULT
  }

  const methods = new Map<string, MethodHandler>([
    ['initialize', initialize],
    ['ping', () => EMPTY_RESULT],
    ['logging/setLevel', setLogLevel],
    ['tools/list', () => tools.list()],
    ['tools/call', (request, env) => tools.call(request, env) as Promise<Result | undefined>]
  ])

  async function handleRequest (request: JsonRpcRequest, env: CallEnv): Promise<JsonRpcResponse | undefined> {
    const method = methods.get(request.method)
    if (method === undefined) {
      return failure(request.id, ErrorCode.MethodNotFound, `Method not found: "${request.method}". This server implements: ${[...methods.keys()].join(', ')}`)
    }
    try {
      const result = await method(request, env)
      return result === undefined ? undefined : success(request.id, result)
    } catch (error) {
      if (error instanceof JsonRpcError) return { jsonrpc: '2.0', id: request.id, error: error.toObject() }
      env.log.error({ err: error, method: request.method }, 'Request handler failed')
      return failure(request.id, ErrorCode.InternalError, `Internal error while handling ${request.method}: ${errorMessage(error)}`)
    }
  }

  function handleNotification (notification: JsonRpcNotification, env: CallEnv): void {
    if (notification.method === 'notifications/cancelled') {
      const requestId = notification.params?.requestId
      if (typeof requestId !== 'string' && typeof requestId !== 'number') return
      env.session?.inFlight.get(requestId)?.abort(new RequestCancelledError(notification.params?.reason))
    }
  }

  return { info: definition.info, tools, handleRequest, handleNotification }
}
