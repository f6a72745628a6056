/** JSON-RPC 2.0 messages as MCP uses them, and the checks that sort an incoming value into one of them. */

export type JsonRpcId = string | number
export type Params = Record<string, unknown>

export interface JsonRpcRequest {
  jsonrpc: '2.0'
  id: JsonRpcId
  method: string
  params?: Params
}

export interface JsonRpcNotification {
  jsonrpc: '2.0'
  method: string
  params?: Params
}

export interface JsonRpcSuccess {
  jsonrpc: '2.0'
  id: JsonRpcId
  result: Record<string, unknown>
}

export interface JsonRpcErrorObject {
  code: number
  message: string
  data?: unknown
}

export interface JsonRpcFailure {
  jsonrpc: '2.0'
  id: JsonRpcId | null
  error: JsonRpcErrorObject
}

export type JsonRpcResponse = JsonRpcSuccess | JsonRpcFailure
export type JsonRpcMessage = JsonRpcRequest | JsonRpcNotification | JsonRpcResponse

export const ErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  /** Transport-level refusals (wrong headers, unknown session, overload), as the MCP SDK uses it. */
  ServerError: -32000,
  RequestTimeout: -32001,
  ResourceNotFound: -32002
} as const

const JSON_RPC_ERROR = Symbol.for('fastify-mcp-host/JsonRpcError')

/** An error that reaches the client as a JSON-RPC error object. Its message is shown to the user as is. */
export class JsonRpcError extends Error {
  readonly code: number
  readonly data: unknown

  constructor (code: number, message: string, data?: unknown) {
    super(message)
    this.name = 'JsonRpcError'
    this.code = code
    this.data = data
    Object.defineProperty(this, JSON_RPC_ERROR, { value: true })
  }

  /**
   * `instanceof` by brand, not by class identity: a tools module imports this class from the package while
   * `node server` runs its own bundled copy, and an error thrown by one must still be recognised by the other.
   */
  static override [Symbol.hasInstance] (value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[JSON_RPC_ERROR] === true
  }

  toObject (): JsonRpcErrorObject {
    return this.data === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, data: this.data }
  }
}

export function success (id: JsonRpcId, result: Record<string, unknown>): JsonRpcSuccess {
  return { jsonrpc: '2.0', id, result }
}

export function failure (id: JsonRpcId | null, code: number, message: string, data?: unknown): JsonRpcFailure {
  return { jsonrpc: '2.0', id, error: data === undefined ? { code, message } : { code, message, data } }
}

export type ClassifiedMessage =
  | { kind: 'request', message: JsonRpcRequest }
  | { kind: 'notification', message: JsonRpcNotification }
  | { kind: 'response', message: JsonRpcResponse }
  | { kind: 'invalid', id: JsonRpcId | null, reason: string }

function isObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isId (value: unknown): value is JsonRpcId {
  return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value))
}

/**
 * Sorts one parsed JSON value into a request, notification or response, or says why it is none of them.
 * Only the envelope is checked here; each method checks its own params.
 */
export function classifyMessage (value: unknown): ClassifiedMessage {
  if (Array.isArray(value)) {
    return { kind: 'invalid', id: null, reason: 'JSON-RPC batches are not supported (removed in MCP 2025-06-18): send one message per request' }
  }
  if (!isObject(value)) {
    return { kind: 'invalid', id: null, reason: 'Expected a JSON-RPC 2.0 message: a JSON object with "jsonrpc": "2.0"' }
  }
  const id = isId(value.id) ? value.id : null
  if (value.jsonrpc !== '2.0') {
    return { kind: 'invalid', id, reason: 'The "jsonrpc" member must be exactly "2.0"' }
  }
  if ('method' in value) {
    if (typeof value.method !== 'string' || value.method.length === 0) {
      return { kind: 'invalid', id, reason: 'The "method" member must be a non-empty string' }
    }
    if (value.params !== undefined && !isObject(value.params)) {
      return { kind: 'invalid', id, reason: 'The "params" member, when present, must be an object' }
    }
    if (!('id' in value)) return { kind: 'notification', message: value as unknown as JsonRpcNotification }
    if (!isId(value.id)) {
      return { kind: 'invalid', id: null, reason: 'The "id" member must be a string or a number (null ids are not allowed in MCP)' }
    }
    return { kind: 'request', message: value as unknown as JsonRpcRequest }
  }
  if ('result' in value || 'error' in value) {
    if (!isId(value.id) && value.id !== null) {
      return { kind: 'invalid', id: null, reason: 'A response\'s "id" must be a string or a number' }
    }
    if ('result' in value ? !isObject(value.result) : !isObject(value.error)) {
      return { kind: 'invalid', id, reason: 'A response must carry a "result" object or an "error" object' }
    }
    return { kind: 'response', message: value as unknown as JsonRpcResponse }
  }
  return { kind: 'invalid', id, reason: 'A JSON-RPC message needs a "method" (request or notification) or a "result"/"error" (response)' }
}

export function isObjectValue (value: unknown): value is Record<string, unknown> {
  return isObject(value)
}

const QUOTE_LIMIT = 64

/** A client-sent value, cut at 64 characters (with `…` when cut), for error data and log lines. */
export function cutShort (value: unknown): string {
  const text = String(value)
  return text.length > QUOTE_LIMIT ? `${text.slice(0, QUOTE_LIMIT)}…` : text
}

/** A client-sent value for an error message: quoted, and cut short so that a refusal never echoes kilobytes back. */
export function quoteValue (value: unknown): string {
  return JSON.stringify(cutShort(value))
}
