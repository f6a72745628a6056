import { ErrorCode, failure, isObjectValue, quoteValue, cutShort, type JsonRpcFailure, type JsonRpcRequest } from '../jsonrpc.js'
import type { ClientCapabilities, Implementation, LoggingLevel } from '../spec.js'
import { isLoggingLevel } from '../logging-levels.js'

/** The revision that made MCP stateless: no initialize, the client's facts travel in every request's `_meta`. */
export const MODERN_PROTOCOL_VERSION = '2026-07-28'
export const MODERN_PROTOCOL_VERSIONS = [MODERN_PROTOCOL_VERSION] as const

export const META = {
  protocolVersion: 'io.modelcontextprotocol/protocolVersion',
  clientCapabilities: 'io.modelcontextprotocol/clientCapabilities',
  clientInfo: 'io.modelcontextprotocol/clientInfo',
  logLevel: 'io.modelcontextprotocol/logLevel',
  serverInfo: 'io.modelcontextprotocol/serverInfo',
  subscriptionId: 'io.modelcontextprotocol/subscriptionId'
} as const

/** Error codes the 2026-07-28 revision adds. */
export const ModernErrorCode = {
  HeaderMismatch: -32020,
  MissingCapability: -32021,
  UnsupportedVersion: -32022
} as const

export interface ModernEnvelope {
  protocolVersion: string
  clientCapabilities: ClientCapabilities
  clientInfo: Implementation | undefined
  logLevel: LoggingLevel | undefined
}

/** True when a request carries the 2026-era `_meta` protocol version, which is how it declares its era. */
export function declaresModernEra (request: { params?: Record<string, unknown> }): boolean {
  const meta = request.params?._meta
  return isObjectValue(meta) && META.protocolVersion in meta
}

/** The request's `_meta` envelope, or a sentence saying what is missing. */
export function readEnvelope (request: JsonRpcRequest): ModernEnvelope | string {
  const meta = request.params?._meta
  if (!isObjectValue(meta)) return `every ${MODERN_PROTOCOL_VERSION} request needs params._meta with "${META.protocolVersion}" and "${META.clientCapabilities}"`
  const protocolVersion = meta[META.protocolVersion]
  if (typeof protocolVersion !== 'string') return `params._meta needs "${META.protocolVersion}" (a string such as "${MODERN_PROTOCOL_VERSION}")`
  const clientCapabilities = meta[META.clientCapabilities]
  if (!isObjectValue(clientCapabilities)) return `params._meta needs "${META.clientCapabilities}" (an object; {} when the client offers nothing)`
  const clientInfo = meta[META.clientInfo]
  const logLevel = meta[META.logLevel]
  return {
    protocolVersion,
    clientCapabilities,
    clientInfo: isObjectValue(clientInfo) ? clientInfo as unknown as Implementation : undefined,
    logLevel: isLoggingLevel(logLevel) ? logLevel : undefined
  }
}

/** Checks a request's `_meta` envelope: the 2026 revision's required keys and a version we speak. */
export function checkEnvelope (request: JsonRpcRequest): ModernEnvelope | JsonRpcFailure {
  const envelope = readEnvelope(request)
  if (typeof envelope === 'string') return failure(request.id, ErrorCode.InvalidParams, `Invalid params: ${envelope}`)
  if (!(MODERN_PROTOCOL_VERSIONS as readonly string[]).includes(envelope.protocolVersion)) {
    return failure(request.id, ModernErrorCode.UnsupportedVersion,
      `Unsupported protocol version ${quoteValue(envelope.protocolVersion)}: this server speaks ${MODERN_PROTOCOL_VERSIONS.join(', ')} (and the 2025 revisions through initialize)`,
      { supported: [...MODERN_PROTOCOL_VERSIONS], requested: cutShort(envelope.protocolVersion) })
  }
  return envelope
}
