import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import type { AuthIdentity } from '../protocol/identity.js'
import { ErrorCode, failure, isObjectValue, type JsonRpcId } from '../protocol/jsonrpc.js'
import { MODERN_PROTOCOL_VERSION } from '../protocol/modern/envelope.js'
import { decodeHeaderValue } from '../protocol/modern/http-rules.js'
import { bearerChallenge } from './challenge.js'
import { challengeScopes, expandScopes, missingScopes, type ScopeImplications } from './scopes.js'
import type { OperationScopes } from './operation-scopes.js'
import type { McpTelemetry } from '../telemetry/telemetry.js'
import type { TokenAuthority } from './token-authority.js'

export interface ScopeGuard {
  /** 2026-07-28: decides from `Mcp-Method` and `Mcp-Name` before the body is read. */
  onRequest: (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void
  /** Any era: decides from the parsed JSON-RPC body (on `/messages` too, before its 202). */
  preHandler: (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void
}

function firstHeader (value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}

/**
 * Per-operation scopes: a tool, resource or prompt that declares `scopes` is refused with 403
 * `insufficient_scope` to a caller whose identity carries `scopes` without them. The challenge lists every scope
 * the operation needs (the server-wide ones too), so a client re-authorizes once and retries. Identities without
 * `scopes` (static tokens, verify functions that return none) are not restricted.
 */
export function createScopeGuard (operations: () => OperationScopes, authority: TokenAuthority | undefined, telemetry?: McpTelemetry): ScopeGuard {
  const implications: ScopeImplications = authority?.scopeImplications ?? new Map()
  const baseScopes = authority?.requiredScopes ?? []
  const effective = new WeakMap<AuthIdentity, Set<string>>()

  function effectiveScopes (identity: AuthIdentity, granted: readonly string[]): Set<string> {
    let scopes = effective.get(identity)
    if (scopes === undefined) {
      scopes = expandScopes(granted, implications)
      effective.set(identity, scopes)
    }
    return scopes
  }

  /** True when the caller may go on; otherwise the 403 has been sent. */
  function permits (request: FastifyRequest, reply: FastifyReply, method: string, needed: readonly string[], id: JsonRpcId | null): boolean {
    if (needed.length === 0) return true
    const identity = request.mcpAuth
    const granted = identity?.scopes
    if (identity == null || !Array.isArray(granted)) return true
    const missing = missingScopes(needed, effectiveScopes(identity, granted))
    if (missing.length === 0) return true
    const asked = challengeScopes(baseScopes, needed)
    const message = `Forbidden: ${method} needs the scope ${missing.join(' ')}, which this caller's access token does not grant; ` +
      `authorize again with scope "${asked.join(' ')}"`
    // With the per-call lines on, telemetry writes this refusal's line (request.log is quiet at info there).
    request.log.info({ method, missing }, 'MCP request refused: the caller lacks a scope the operation needs')
    telemetry?.refused(request, 403, ErrorCode.ServerError, message, 'forbidden')
    void reply
      .code(403)
      .header('www-authenticate', bearerChallenge({
        error: 'insufficient_scope',
        scopes: asked,
        resourceMetadata: authority?.resourceMetadataUrl,
        description: 'the access token lacks a scope this operation needs'
      }))
      .send(failure(id, ErrorCode.ServerError, message))
    return false
  }

  return {
    onRequest (request, reply, done) {
      const headers = request.headers
      // A request under the 2026 header is served by that era's rules whatever else it carries (an Mcp-Session-Id too).
      if (request.method !== 'POST' || headers['mcp-protocol-version'] !== MODERN_PROTOCOL_VERSION) return done()
      const method = firstHeader(headers['mcp-method'])
      const rawName = firstHeader(headers['mcp-name'])
      const name = rawName === undefined ? undefined : decodeHeaderValue(rawName.trim())
      // The body must repeat these headers (checked on the 2026 path), so what they name is what would run.
      if (method === undefined || name === undefined) return done()
      if (permits(request, reply, method.trim(), operations().forName(method.trim(), name), null)) done()
    },
    preHandler (request, reply, done) {
      const body = request.body
      if (!isObjectValue(body) || typeof body.method !== 'string' || (typeof body.id !== 'string' && typeof body.id !== 'number')) return done()
      const params = isObjectValue(body.params) ? body.params : undefined
      if (permits(request, reply, body.method, operations().forRequest(body.method, params), body.id)) done()
    }
  }
}
