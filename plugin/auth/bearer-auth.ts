import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import type { AuthIdentity } from '../protocol/identity.js'
import type { AuthOption } from '../options.js'
import { ErrorCode, failure } from '../protocol/jsonrpc.js'
import { createTokenMatcher, sameSecret } from './token-matcher.js'
import { sendEarlyRefusal } from '../transports/http/lingering-close.js'

type Refusal = 'missing' | 'scheme' | 'invalid'

const REFUSALS: Record<Refusal, { message: string, challenge: string }> = {
  missing: {
    message: 'Missing credentials: send the header "Authorization: Bearer <token>"',
    challenge: 'Bearer realm="mcp"'
  },
  scheme: {
    message: 'The Authorization header must use the Bearer scheme: "Authorization: Bearer <token>"',
    challenge: 'Bearer realm="mcp", error="invalid_request", error_description="Bearer scheme required"'
  },
  invalid: {
    message: 'Invalid bearer token: check the token this server was started with (MCP_TOKEN / MCP_TOKEN_FILE)',
    challenge: 'Bearer realm="mcp", error="invalid_token", error_description="The token is not valid"'
  }
}

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

/**
 * The credentials check of the MCP routes' onRequest hook, before any body is read: 401 with
 * `WWW-Authenticate: Bearer` and a JSON-RPC error body on refusal. The reason and the client's address are
 * logged; the token never is.
 */
export function createBearerAuth (auth: Exclude<AuthOption, false>, failureLogLevel: string): AuthCheck {
  const verify = 'verify' in auth ? auth.verify : undefined
  const match = 'tokens' in auth ? createTokenMatcher(auth.tokens) : undefined

  function refuse (request: FastifyRequest, reply: FastifyReply, refusal: Refusal): void {
    const { message, challenge } = REFUSALS[refusal]
    const log = request.log as unknown as Record<string, (obj: object, msg: string) => void>
    // Without the query string: a client that put its token there must not have it logged by us.
    const url = request.url.split('?', 1)[0]
    log[failureLogLevel]?.call(request.log, { reason: refusal, ip: request.ip, url }, 'MCP request refused by bearer auth')
    sendEarlyRefusal(request, reply, () => { void reply.code(401).header('www-authenticate', challenge).send(failure(null, ErrorCode.ServerError, message)) })
  }

  function admit (request: FastifyRequest, reply: FastifyReply, identity: AuthIdentity | null | undefined, done: HookHandlerDoneFunction): void {
    if (identity === null || identity === undefined || typeof identity.id !== 'string') return refuse(request, reply, 'invalid')
    request.mcpAuth = identity
    // Later log lines of this request (tool errors, "request completed") name the caller; the token never appears.
    request.log = reply.log = request.log.child({ identity: identity.id })
    done()
  }

  // With a fixed token list, a connection that repeats the header it was last admitted with is admitted again
  // after one constant-time comparison with that header, not a parse and a match against every token: clients
  // send the same header on every request. The comparison is constant-time because a proxy may carry several
  // clients' requests over one connection. (A verify function is always asked: it may change its mind.)
  const admittedHeaders = match === undefined ? undefined : new WeakMap<object, { header: string, identity: AuthIdentity }>()

  // Callback style: with tokens it runs synchronously on every request; only a verify function is awaited.
  return function bearerAuth (request, reply, done) {
    const header = request.headers.authorization
    const connection = request.raw.socket
    const admitted = admittedHeaders?.get(connection)
    if (admitted !== undefined && header !== undefined && sameSecret(header, admitted.header)) return admit(request, reply, admitted.identity, done)
    const parsed = parseBearer(header)
    if ('refusal' in parsed) return refuse(request, reply, parsed.refusal)
    if (verify === undefined) {
      const identity = match?.(parsed.token) ?? null
      if (identity !== null && header !== undefined) admittedHeaders?.set(connection, { header, identity })
      return admit(request, reply, identity, done)
    }
    Promise.resolve()
      .then(async () => await verify(parsed.token, request))
      .then((identity) => { admit(request, reply, identity, done) }, done)
  }
}
