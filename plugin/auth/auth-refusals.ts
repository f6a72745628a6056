import { bearerChallenge } from './challenge.js'
import type { TokenAuthority } from './token-authority.js'

/** One way the bearer check turns a request away: status, the JSON-RPC message a person reads, the challenge. */
export interface AuthRefusal {
  status: number
  /** Logged as `reason`; never holds the token. */
  reason: string
  message: string
  challenge?: string
  retryAfter?: string
}

/** How each kind of refusal is said, with static tokens only or with an OAuth authority behind them. */
export interface AuthRefusals {
  missing: AuthRefusal
  scheme: AuthRefusal
  invalid: (why?: string) => AuthRefusal
  /** A token in the URL, or two Authorization headers: a malformed request (RFC 6750 §3.1), 400. */
  malformed: (why: string) => AuthRefusal
  unavailable: (why: string) => AuthRefusal
  insufficientScope: (scopes: readonly string[]) => AuthRefusal
}

const STATIC_INVALID: AuthRefusal = {
  status: 401,
  reason: 'invalid',
  message: 'Invalid bearer token: this server does not accept it; check the token you were given for this server',
  challenge: 'Bearer realm="mcp", error="invalid_token", error_description="The token is not valid"'
}

/** Static tokens and verify functions: the challenges clients have seen since the first release. */
export const STATIC_REFUSALS: AuthRefusals = {
  missing: {
    status: 401,
    reason: 'missing',
    message: 'Missing credentials: send the header "Authorization: Bearer <token>"',
    challenge: 'Bearer realm="mcp"'
  },
  scheme: {
    status: 401,
    reason: 'scheme',
    message: 'The Authorization header must use the Bearer scheme: "Authorization: Bearer <token>"',
    challenge: 'Bearer realm="mcp", error="invalid_request", error_description="Bearer scheme required"'
  },
  invalid: () => STATIC_INVALID,
  malformed: () => STATIC_INVALID,
  unavailable: () => STATIC_INVALID,
  insufficientScope: () => STATIC_INVALID
}

const RETRY_AFTER_SECONDS = '5'

/**
 * With OAuth every challenge carries `resource_metadata` (RFC 9728 §5.1), which is how a client finds the
 * authorization server, and the scopes every request needs; a token that was sent and refused adds
 * `error="invalid_token"`.
 */
export function oauthRefusals (authority: TokenAuthority): AuthRefusals {
  const resourceMetadata = authority.resourceMetadataUrl
  const scopes = authority.requiredScopes
  const discover = 'OAuth clients find the authorization server through the resource_metadata URL in the WWW-Authenticate header'
  return {
    missing: {
      status: 401,
      reason: 'missing',
      message: `Missing credentials: send the header "Authorization: Bearer <access token>"; ${discover}`,
      challenge: bearerChallenge({ resourceMetadata, scopes })
    },
    scheme: {
      status: 401,
      reason: 'scheme',
      message: `The Authorization header must use the Bearer scheme: "Authorization: Bearer <access token>"; ${discover}`,
      challenge: bearerChallenge({ resourceMetadata, scopes })
    },
    invalid: (why = 'this server does not accept it') => ({
      status: 401,
      reason: `invalid: ${why}`,
      message: `Invalid access token: ${why}; get a new one from the authorization server (${discover})`,
      challenge: bearerChallenge({ resourceMetadata, scopes, error: 'invalid_token', description: why })
    }),
    malformed: (why) => ({
      status: 400,
      reason: `malformed: ${why}`,
      message: `Bad Request: ${why}`,
      challenge: bearerChallenge({ resourceMetadata, scopes, error: 'invalid_request', description: why })
    }),
    unavailable: (why) => ({
      status: 503,
      reason: `identity provider unavailable: ${why}`,
      message: 'Service Unavailable: the identity provider that vouches for access tokens cannot be reached; retry shortly',
      retryAfter: RETRY_AFTER_SECONDS
    }),
    insufficientScope: (needed) => ({
      status: 403,
      reason: 'insufficient scope',
      message: `Forbidden: the access token lacks a scope this server requires (${needed.join(' ')}); ` +
        'authorize again with these scopes',
      challenge: bearerChallenge({
        resourceMetadata, scopes: needed, error: 'insufficient_scope', description: 'the access token lacks a required scope'
      })
    })
  }
}
