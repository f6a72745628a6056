import type { FastifyRequest } from 'fastify'
import type { JsonRpcId } from '../../protocol/jsonrpc.js'
import type { Lifecycle } from '../../lifecycle.js'
import { quotaKeyOf, type IdentityCap } from '../../sessions/identity-cap.js'
import { refusals } from './refusals.js'
import { SessionGoneError } from '../../sessions/session-state.js'

/** A 503 the client can act on when the shared session store (Redis) cannot be reached, a 404 for a session gone. */
export async function reachStore<T> (work: Promise<T>, rpcId: JsonRpcId | null = null): Promise<T> {
  try {
    return await work
  } catch (error) {
    // A session that ended meanwhile is as good as unknown: the client starts a new one.
    if (error instanceof SessionGoneError) throw refusals.sessionNotFound(rpcId)
    throw Object.assign(refusals.clusterUnavailable(rpcId), { cause: error })
  }
}

/** While the host drains for shutdown, new MCP work is refused with 503 so clients retry elsewhere. */
export function refuseWhileDraining (lifecycle: Lifecycle, rpcId: JsonRpcId | null = null): void {
  if (lifecycle.draining) throw refusals.draining(rpcId)
}

/**
 * A caller that already holds `maxSessionsPerIdentity` sessions gets 429 (its own sessions are the limit, not the
 * server's capacity, which is 503) with Retry-After, and the refusal is logged with the identity.
 */
export async function refuseOverIdentityCap (
  cap: IdentityCap, request: FastifyRequest, rpcId: JsonRpcId | null = null, makeRoom?: (quotaKey: string) => Promise<boolean>
): Promise<string> {
  const quotaKey = quotaKeyOf(request.mcpAuth, request.ip)
  if (!await reachStore(cap.reached(quotaKey), rpcId)) return quotaKey
  if (makeRoom !== undefined && await reachStore(makeRoom(quotaKey), rpcId)) return quotaKey
  request.log.warn({ quotaKey, limit: cap.limit }, 'New session refused: the caller holds maxSessionsPerIdentity sessions')
  throw refusals.identityCap(cap.limit, rpcId)
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
