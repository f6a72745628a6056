import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import type { AuthIdentity } from '../protocol/identity.js'
import type { AuthMethods } from '../options.js'
import { ErrorCode, failure } from '../protocol/jsonrpc.js'
import { createTokenMatcher, sameSecret } from './token-matcher.js'
import { oauthRefusals, STATIC_REFUSALS, type AuthRefusal } from './auth-refusals.js'
import type { TokenAuthority } from './token-authority.js'
import type { McpTelemetry } from '../telemetry/telemetry.js'
import type { RequestLoggers } from '../transports/http/request-loggers.js'
import { sendEarlyRefusal } from '../transports/http/lingering-close.js'

type Refusal = 'missing' | 'scheme'

const BEARER = /^Bearer[ \t]+([^ \t]+)[ \t]*$/i
const CANONICAL_PREFIX = 'Bearer '
const WHITESPACE = /[ \t]/

/** The token from an `Authorization: Bearer <token>` header, or why there is none. */
export function parseBearer (header: string | undefined): { token: string } | { refusal: Refusal } {
  if (header === undefined || header === '') return { refusal: 'missing' }
  // What clients send: "Bearer <token>", taken without running the full pattern.
  if (header.startsWith(CANONICAL_PREFIX)) {
    const token = header.slice(CANONICAL_PREFIX.length)
    if (token !== '' && !WHITESPACE.test(token)) return { token }
  }
  const match = BEARER.exec(header)
  return match === null ? { refusal: 'scheme' } : { token: match[1] }
}

/** Calls `done` for an admitted request; otherwise has sent the refusal. */
export type AuthCheck = (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void

/** How many Authorization headers the client sent (Node keeps only the first in `headers`). */
function authorizationHeaders (request: FastifyRequest): number {
  const raw = request.raw.rawHeaders
  let count = 0
  for (let i = 0; i < raw.length; i += 2) if (raw[i].length === 13 && raw[i].toLowerCase() === 'authorization') count++
  return count
}

const QUERY_TOKEN = /[?&]access_token=/

/**
 * The credentials check of the MCP routes' onRequest hook, before any body is read: 401 with
 * `WWW-Authenticate: Bearer` and a JSON-RPC error body on refusal. Static tokens are matched first, then the
 * verify function is asked, then the OAuth authority (when configured). The reason and the client's address are
 * logged; the token never is.
 */
export function createBearerAuth (auth: AuthMethods, failureLogLevel: string, authority?: TokenAuthority, telemetry?: McpTelemetry, loggers?: RequestLoggers): AuthCheck {
  const verify = auth.verify
  const match = auth.tokens === undefined ? undefined : createTokenMatcher(auth.tokens)
  const refusals = authority === undefined ? STATIC_REFUSALS : oauthRefusals(authority)

  function refuse (request: FastifyRequest, reply: FastifyReply, refusal: AuthRefusal): void {
    // Without the query string: a client that put its token there must not have it logged by us.
    const url = request.url.split('?', 1)[0]
    // request.log writes only warn and above on the MCP routes when the per-call lines are on: a lower level goes to
    // the app's logger, with the request id.
    const quiet = loggers?.quiet === true && (failureLogLevel === 'info' || failureLogLevel === 'debug' || failureLogLevel === 'trace')
    const target = quiet ? loggers.base : request.log
    const fields = quiet ? { [loggers.idLabel]: request.id, reason: refusal.reason, ip: request.ip, url } : { reason: refusal.reason, ip: request.ip, url }
    const log = target as unknown as Record<string, (obj: object, msg: string) => void>
    log[failureLogLevel]?.call(target, fields, 'MCP request refused by bearer auth')
    // Counted only: the line above is this refusal's log line.
    telemetry?.refusedQuietly(refusal.status, refusal.status === 503 ? 'unavailable' : undefined)
    if (refusal.challenge !== undefined) reply.header('www-authenticate', refusal.challenge)
    if (refusal.retryAfter !== undefined) reply.header('retry-after', refusal.retryAfter)
    sendEarlyRefusal(request, reply, () => { void reply.code(refusal.status).send(failure(null, ErrorCode.ServerError, refusal.message)) })
  }

  function admit (request: FastifyRequest, _reply: FastifyReply, identity: AuthIdentity, done: HookHandlerDoneFunction): void {
    // No child logger here: the call's own lines name the caller through a logger made when one is written
    // (transports/http/request-loggers.ts), and the per-call line carries it. The token never appears.
    request.mcpAuth = identity
    done()
  }

  function isIdentity (identity: AuthIdentity | null | undefined): identity is AuthIdentity {
    return identity !== null && identity !== undefined && typeof identity.id === 'string'
  }

  /** The OAuth authority's say on a token nothing else took. */
  function askAuthority (request: FastifyRequest, reply: FastifyReply, token: string, done: HookHandlerDoneFunction): void {
    if (authority === undefined) return refuse(request, reply, refusals.invalid())
    if (authorizationHeaders(request) > 1) return refuse(request, reply, refusals.malformed('send one Authorization header, not several'))
    authority.verify(token).then((verdict) => {
      if ('identity' in verdict && !('insufficientScope' in verdict)) return admit(request, reply, verdict.identity, done)
      if ('insufficientScope' in verdict) return refuse(request, reply, refusals.insufficientScope(verdict.insufficientScope))
      if ('unavailable' in verdict) return refuse(request, reply, refusals.unavailable(verdict.unavailable))
      refuse(request, reply, refusals.invalid(verdict.refused))
    }, done)
  }

  function refuseUnparsed (request: FastifyRequest, reply: FastifyReply, refusal: Refusal): void {
    // RFC 6750 §2.3 allows a token in the URL, OAuth 2.1 and MCP do not: say so, rather than "missing".
    if (refusal === 'missing' && authority !== undefined && QUERY_TOKEN.test(request.url)) {
      return refuse(request, reply, refusals.malformed('send the access token in the Authorization header, never in the URL'))
    }
    refuse(request, reply, refusals[refusal])
  }

  // With a fixed token list, a connection that repeats the header it was last admitted with is admitted again
  // after one constant-time comparison with that header, not a parse and a match against every token: clients
  // send the same header on every request. The comparison is constant-time because a proxy may carry several
  // clients' requests over one connection. (A verify function is always asked: it may change its mind.)
  const admittedHeaders = match === undefined ? undefined : new WeakMap<object, { header: string, identity: AuthIdentity }>()

  // Callback style: with tokens it runs synchronously on every request; only a verify function and OAuth are awaited.
  return function bearerAuth (request, reply, done) {
    const header = request.headers.authorization
    const connection = request.raw.socket
    const admitted = admittedHeaders?.get(connection)
    if (admitted !== undefined && header !== undefined && sameSecret(header, admitted.header)) return admit(request, reply, admitted.identity, done)
    const parsed = parseBearer(header)
    if ('refusal' in parsed) return refuseUnparsed(request, reply, parsed.refusal)
    const matched = match?.(parsed.token) ?? null
    if (matched !== null) {
      if (header !== undefined) admittedHeaders?.set(connection, { header, identity: matched })
      return admit(request, reply, matched, done)
    }
    if (verify === undefined) return askAuthority(request, reply, parsed.token, done)
    Promise.resolve()
      .then(async () => await verify(parsed.token, request))
      .then((identity) => {
        if (isIdentity(identity)) admit(request, reply, identity, done)
        else askAuthority(request, reply, parsed.token, done)
      }, done)
  }
}
