import { configErrors, McpConfigError } from '../../errors.js'

/**
 * The `auth.oauth` option: this server as an OAuth 2.1 resource server (the MCP authorization spec, 2025-11-25)
 * that accepts access tokens from one authorization server. See docs/oauth.md.
 */
export interface OAuthOptions {
  /**
   * The authorization server's issuer identifier, exactly as it appears in its metadata and in tokens' `iss`
   * (e.g. `https://auth.example.com/realms/team`). Its metadata is found by RFC 8414 / OpenID discovery.
   */
  issuer: string
  /**
   * This server's canonical URI as clients know it (e.g. `https://mcp.example.com/mcp`): the `resource` of the
   * Protected Resource Metadata and, by default, the audience tokens must carry (RFC 8707). When OAuth clients
   * also use the legacy `/sse` endpoint, give the URI both endpoints share (`https://mcp.example.com`).
   */
  resource: string
  /**
   * The `aud` value(s) to require instead of `resource`: only for identity providers that cannot put the resource
   * URI in `aud` (an Auth0 API identifier, say). A token passes when one of its audiences is listed.
   */
  audience?: string | readonly string[]
  /** Scopes every MCP request needs (401/403 challenges ask for them). Default: none. */
  scopes?: readonly string[]
  /**
   * Scopes that imply others, e.g. `{ admin: ['deploy:write', 'deploy:read'] }`: a token with `admin` passes
   * wherever `deploy:write` is required. Transitive.
   */
  scopeImplications?: Readonly<Record<string, readonly string[]>>
  /** Token claims handlers see in `ctx.auth.claims`. Default: `name`, `email`, `preferred_username`. */
  claims?: readonly string[]
  /** JWS algorithms accepted, asymmetric only. Default: RS256/384/512, PS256/384/512, ES256/384/512, EdDSA, Ed25519. */
  algorithms?: readonly string[]
  /** Clock skew allowed when checking `exp` and `nbf`, in seconds. Default 5. */
  clockToleranceSeconds?: number
  /**
   * RFC 7662 introspection for opaque (non-JWT) access tokens, with this server's client credentials. `url`
   * defaults to the issuer metadata's `introspection_endpoint`. Answers are cached no longer than the token lives.
   */
  introspection?: { url?: string, clientId: string, clientSecret: string }
  /** The JWKS URL, when it should not come from the issuer's metadata. */
  jwksUri?: string
  /** Least time between two key-set fetches caused by a token whose key is unknown (ms, at most 30 000). Default 30 000. */
  jwksCooldownMs?: number
  /** How long fetched keys are used before they are fetched again in the background (ms). Default 10 minutes. */
  jwksMaxAgeMs?: number
  /** How long a call to the identity provider may take before it counts as unreachable (ms). Default 5000. */
  idpTimeoutMs?: number
  /** `resource_documentation` of the Protected Resource Metadata: a page for humans about this server. */
  resourceDocumentation?: string
}

export const DEFAULT_ALGORITHMS = Object.freeze([
  'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'
])
const ASYMMETRIC = new Set([...DEFAULT_ALGORITHMS, 'ES256K', 'ML-DSA-44', 'ML-DSA-65', 'ML-DSA-87'])
const DEFAULT_CLAIMS = Object.freeze(['name', 'email', 'preferred_username'])
const MAX_COOLDOWN_MS = 30_000

/** The options after checks and defaults. */
export interface ResolvedOAuthOptions {
  issuer: string
  resource: string
  /** Every `aud` value a token may carry to be for this server. */
  audiences: readonly string[]
  scopes: readonly string[]
  scopeImplications: ReadonlyMap<string, readonly string[]>
  claims: readonly string[]
  algorithms: readonly string[]
  clockToleranceSeconds: number
  introspection: { url: string | undefined, clientId: string, clientSecret: string } | undefined
  jwksUri: string | undefined
  jwksCooldownMs: number
  jwksMaxAgeMs: number
  idpTimeoutMs: number
  resourceDocumentation: string | undefined
}

/** A mistake in `auth.oauth`. `path` and `expected` apart, so that `node server` can name the variable that set it. */
export class OAuthOptionsError extends McpConfigError {
  constructor (readonly path: string, readonly expected: string) {
    super('MCP_ERR_OPTIONS', configErrors.invalidOptions(`auth.oauth.${path} ${expected}`).message)
  }
}

function fail (path: string, expected: string): never {
  throw new OAuthOptionsError(path, expected)
}

function httpUrl (path: string, value: unknown, loopbackHttp = true): URL {
  if (typeof value !== 'string' || value === '') fail(path, 'must be an absolute https URL')
  let url: URL
  try {
    url = new URL(value)
  } catch {
    fail(path, `must be an absolute https URL, got "${value}"`)
  }
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname)
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback && loopbackHttp)) {
    fail(path, `must use https (plain http only on loopback, for development), got "${value}"`)
  }
  if (url.hash !== '' || value.includes('#')) fail(path, `must not have a fragment, got "${value}"`)
  return url
}

/** A scope token per RFC 6749 §3.3: printable ASCII without space, `"` or `\`. */
function isScopeToken (value: unknown): value is string {
  return typeof value === 'string' && /^[\x21\x23-\x5b\x5d-\x7e]+$/.test(value)
}

function scopeList (path: string, value: unknown): string[] {
  if (value === undefined) return []
  if (!Array.isArray(value) || !value.every(isScopeToken)) fail(path, 'must be an array of scope names (no spaces, quotes or backslashes)')
  return [...new Set(value as string[])]
}

function positiveInteger (path: string, value: unknown, fallback: number, max = Number.MAX_SAFE_INTEGER, min = 0): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) fail(path, `must be a whole number from ${min} to ${max}`)
  return value
}

function implications (value: unknown): Map<string, string[]> {
  const map = new Map<string, string[]>()
  if (value === undefined) return map
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('scopeImplications', 'must be an object such as { admin: ["deploy:write"] }')
  for (const [scope, implied] of Object.entries(value)) {
    if (!isScopeToken(scope)) fail('scopeImplications', `has a key that is not a scope name: "${scope}"`)
    map.set(scope, scopeList(`scopeImplications.${scope}`, implied))
  }
  return map
}

/** Every way a client may spell the audience the resource URI stands for (`https://h` and `https://h/` alike). */
function audiencesOf (resource: string): string[] {
  const url = new URL(resource)
  const forms = new Set([resource, url.href])
  if (url.pathname === '/' && url.search === '') forms.add(url.href.slice(0, -1))
  return [...forms]
}

function algorithmList (value: unknown): readonly string[] {
  if (value === undefined) return DEFAULT_ALGORITHMS
  if (!Array.isArray(value) || value.length === 0) fail('algorithms', 'must be a non-empty array of JWS algorithm names')
  for (const alg of value) {
    if (!ASYMMETRIC.has(alg as string)) {
      fail('algorithms', `accepts asymmetric algorithms only (never "none" or HS*, whose key would be public): "${String(alg)}" is not one`)
    }
  }
  return Object.freeze([...value as string[]])
}

function introspectionOption (value: unknown): ResolvedOAuthOptions['introspection'] {
  if (value === undefined) return undefined
  if (typeof value !== 'object' || value === null) fail('introspection', 'must be { url?, clientId, clientSecret }')
  const { url, clientId, clientSecret } = value as Record<string, unknown>
  if (typeof clientId !== 'string' || clientId === '') fail('introspection.clientId', 'must be the client id this server authenticates to the introspection endpoint with')
  if (typeof clientSecret !== 'string' || clientSecret === '') fail('introspection.clientSecret', 'must be that client\'s secret')
  return { url: url === undefined ? undefined : httpUrl('introspection.url', url).href, clientId, clientSecret }
}

/** Checks `auth.oauth` and fills defaults; throws McpConfigError naming the path of a mistake. */
export function resolveOAuthOptions (input: unknown): ResolvedOAuthOptions {
  if (typeof input !== 'object' || input === null) fail('', 'must be an object: { issuer, resource, ... } (see docs/oauth.md)')
  const options = input as Record<string, unknown>
  // The issuer is compared with `iss` exactly, so it is kept as given (no normalisation).
  httpUrl('issuer', options.issuer)
  const issuer = options.issuer as string
  httpUrl('resource', options.resource)
  const resource = options.resource as string
  let audiences: string[]
  if (options.audience === undefined) audiences = audiencesOf(resource)
  else {
    const list = typeof options.audience === 'string' ? [options.audience] : options.audience
    if (!Array.isArray(list) || list.length === 0 || !list.every((entry) => typeof entry === 'string' && entry !== '')) {
      fail('audience', 'must be a non-empty string or array of strings')
    }
    audiences = [...list as string[]]
  }
  const claims = options.claims === undefined ? DEFAULT_CLAIMS : options.claims
  if (!Array.isArray(claims) || !claims.every((claim) => typeof claim === 'string' && claim !== '')) fail('claims', 'must be an array of claim names')
  const documentation = options.resourceDocumentation
  return {
    issuer,
    resource,
    audiences,
    scopes: scopeList('scopes', options.scopes),
    scopeImplications: implications(options.scopeImplications),
    claims: [...claims as string[]],
    algorithms: algorithmList(options.algorithms),
    clockToleranceSeconds: positiveInteger('clockToleranceSeconds', options.clockToleranceSeconds, 5, 300),
    introspection: introspectionOption(options.introspection),
    jwksUri: options.jwksUri === undefined ? undefined : httpUrl('jwksUri', options.jwksUri).href,
    jwksCooldownMs: positiveInteger('jwksCooldownMs', options.jwksCooldownMs, MAX_COOLDOWN_MS, MAX_COOLDOWN_MS),
    jwksMaxAgeMs: positiveInteger('jwksMaxAgeMs', options.jwksMaxAgeMs, 10 * 60_000, 7 * 24 * 3_600_000, 1_000),
    idpTimeoutMs: positiveInteger('idpTimeoutMs', options.idpTimeoutMs, 5_000, 120_000, 100),
    resourceDocumentation: documentation === undefined ? undefined : httpUrl('resourceDocumentation', documentation).href
  }
}
