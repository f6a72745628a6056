import type { FastifyReply, FastifyRequest } from 'fastify'
import httpErrors from '@fastify/sensible/lib/httpErrors.js'
import { ErrorCode, type JsonRpcId } from '../protocol/jsonrpc.js'
import type { Lifecycle } from '../lifecycle.js'
import type { IdentityCap } from '../sessions/identity-cap.js'

/** Builds the error an MCP route throws to refuse a request; the scoped error handler renders it as JSON-RPC. */
export function refusal (status: number, message: string, rpcCode: number = ErrorCode.ServerError, rpcId: JsonRpcId | null = null): Error {
  return httpErrors.createError(status, message, { rpcCode, rpcId })
}

const DRAIN_RETRY_AFTER_SECONDS = '5'

/** While the host drains for shutdown, new MCP work is refused with 503 so clients retry elsewhere. */
export function refuseWhileDraining (lifecycle: Lifecycle, reply: FastifyReply): void {
  if (!lifecycle.draining) return
  reply.header('retry-after', DRAIN_RETRY_AFTER_SECONDS)
  throw refusal(503, 'Service Unavailable: this server is shutting down; retry shortly (another instance may serve you)')
}

const IDENTITY_CAP_RETRY_AFTER_SECONDS = '30'

/**
 * A caller that already holds `maxSessionsPerIdentity` sessions gets 429 (its own sessions are the limit, not the
 * server's capacity, which is 503) with Retry-After, and the refusal is logged with the identity.
 */
export function refuseOverIdentityCap (
  cap: IdentityCap, request: FastifyRequest, reply: FastifyReply, rpcId: JsonRpcId | null = null
): void {
  const owner = request.mcpAuth
  if (owner === null || !cap.reached(owner)) return
  request.log.warn({ identity: owner.id, limit: cap.limit }, 'New session refused: the caller holds maxSessionsPerIdentity sessions')
  reply.header('retry-after', IDENTITY_CAP_RETRY_AFTER_SECONDS)
  throw refusal(429, `Too Many Requests: this caller already holds ${String(cap.limit)} open sessions, the limit per identity; ` +
    'end one (DELETE /mcp with its Mcp-Session-Id, or close an SSE stream) and retry', ErrorCode.ServerError, rpcId)
}

export function isJsonContentType (header: string | undefined): boolean {
  if (header === undefined) return false
  const semicolon = header.indexOf(';')
  const type = (semicolon === -1 ? header : header.slice(0, semicolon)).trim().toLowerCase()
  return type === 'application/json'
}

function accepts (accept: string, type: string, family: string): boolean {
  return accept.includes(type) || accept.includes(family) || accept.includes('*/*')
}

/** Streamable HTTP POSTs must accept both JSON and event streams (a wildcard counts). */
export function acceptsJsonAndEventStream (accept: string | undefined): boolean {
  if (accept === undefined) return false
  return accepts(accept, 'application/json', 'application/*') && accepts(accept, 'text/event-stream', 'text/*')
}

export function acceptsEventStream (accept: string | undefined): boolean {
  return accept !== undefined && accepts(accept, 'text/event-stream', 'text/*')
}
