import { failure, quoteValue, ErrorCode, type JsonRpcFailure, type JsonRpcRequest, type JsonRpcResponse } from '../jsonrpc.js'
import { checkEnvelope, ModernErrorCode, type ModernRequest } from './envelope.js'

type Headers = Record<string, string | string[] | undefined>

function header (headers: Headers, name: string): string | undefined {
  const value = headers[name]
  return (Array.isArray(value) ? value[0] : value)?.trim()
}

/** Header values that are not plain ASCII travel as `=?base64?<data>?=`. */
export function decodeHeaderValue (value: string): string | undefined {
  const match = /^=\?base64\?(.*)\?=$/.exec(value)
  if (match === null) return value
  const data = match[1]
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(data) || data.length % 4 !== 0) return undefined
  return Buffer.from(data, 'base64').toString('utf8')
}

/** The `Mcp-Name` a request must carry: the tool or prompt name, or the resource URI. */
function expectedName (request: JsonRpcRequest): string | undefined {
  const params = request.params ?? {}
  if (request.method === 'tools/call' || request.method === 'prompts/get') return typeof params.name === 'string' ? params.name : undefined
  if (request.method === 'resources/read') return typeof params.uri === 'string' ? params.uri : undefined
  return undefined
}

function mismatch (request: JsonRpcRequest, message: string): JsonRpcFailure {
  return failure(request.id, ModernErrorCode.HeaderMismatch, `Header mismatch: ${message}`)
}

/**
 * The 2026-07-28 rules for a request on Streamable HTTP, in the revision's order: the version header, the
 * `_meta` envelope, header against body, a version we speak, then `Mcp-Method` and `Mcp-Name`. Each refusal is
 * an HTTP 400 with the revision's error code.
 */
export function checkModernHttpRequest (headers: Headers, request: JsonRpcRequest): ModernRequest | JsonRpcFailure {
  const version = header(headers, 'mcp-protocol-version')
  if (version === undefined || version === '') return mismatch(request, 'the MCP-Protocol-Version header is required on every 2026-07-28 request')
  const envelope = checkEnvelope(request)
  if ('jsonrpc' in envelope && envelope.error.code === ErrorCode.InvalidParams) return envelope
  const metaVersion = request.params?._meta !== undefined ? (request.params._meta as Record<string, unknown>)['io.modelcontextprotocol/protocolVersion'] : undefined
  if (metaVersion !== version) return mismatch(request, `MCP-Protocol-Version ${quoteValue(version)} differs from _meta protocolVersion ${quoteValue(metaVersion)}`)
  if ('jsonrpc' in envelope) return envelope
  const method = header(headers, 'mcp-method')
  if (method !== request.method) return mismatch(request, `the Mcp-Method header must repeat the body's method ${quoteValue(request.method)}${method === undefined ? '' : `, got ${quoteValue(method)}`}`)
  const name = expectedName(request)
  if (name !== undefined) {
    const raw = header(headers, 'mcp-name')
    const given = raw === undefined ? undefined : decodeHeaderValue(raw)
    if (given !== name) return mismatch(request, `the Mcp-Name header must repeat ${quoteValue(name)} (base64 as =?base64?...?= when not ASCII)`)
  }
  return envelope
}

/**
 * Arguments mirrored in `Mcp-Param-*` headers (so proxies can route on them) must be present and equal to the
 * body's value, base64-decoded when sent as `=?base64?...?=`.
 */
export function checkParamHeaders (headers: Headers, request: JsonRpcRequest, params: ReadonlyArray<{ property: string, header: string }>): JsonRpcFailure | undefined {
  const args = request.params?.arguments as Record<string, unknown> | undefined
  for (const { property, header: name } of params) {
    const value = args?.[property]
    if (value === undefined) continue
    const raw = header(headers, name)
    if (raw === undefined) return mismatch(request, `the ${name} header is required: it must repeat the "${property}" argument`)
    const given = decodeHeaderValue(raw)
    if (given === undefined) return mismatch(request, `the ${name} header is not valid base64 inside =?base64?...?=`)
    if (given !== String(value)) return mismatch(request, `the ${name} header must equal the "${property}" argument`)
  }
  return undefined
}

/** The HTTP status a 2026-era response travels with: 404 for unknown methods, 400 for envelope errors. */
export function modernHttpStatus (response: JsonRpcResponse): number {
  if (!('error' in response)) return 200
  const code = response.error.code
  if (code === ErrorCode.MethodNotFound) return 404
  if (code === ModernErrorCode.HeaderMismatch || code === ModernErrorCode.MissingCapability || code === ModernErrorCode.UnsupportedVersion) return 400
  return 200
}
