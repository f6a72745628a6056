import type { Logger } from '../../protocol/logger.js'
import type { AuthorityVerdict, TokenAuthority } from '../token-authority.js'
import { challengeScopes, expandScopes, missingScopes } from '../scopes.js'
import { resolveOAuthOptions, type ResolvedOAuthOptions } from './oauth-options.js'
import { createOutageLog, IdpUnavailableError } from './idp-outage.js'
import { createIssuerMetadataSource } from './issuer-metadata-source.js'
import { createKeySet } from './key-set.js'
import { createJwtVerifier, looksLikeJwt, TokenRefusedError } from './jwt-verifier.js'
import { createIntrospector } from './introspection.js'
import { identityFromClaims, type OAuthIdentity } from './oauth-identity.js'
import { createVerifiedTokenCache } from './verified-token-cache.js'
import { metadataUrlOf, type ProtectedResourceMetadata } from './protected-resource-metadata.js'

/** An introspected token is asked about again after this long at most, so that a revocation takes effect. */
const INTROSPECTION_CACHE_MS = 60_000

export interface OAuthResourceServer extends TokenAuthority {
  readonly options: ResolvedOAuthOptions
  /** The RFC 9728 document this server publishes. */
  /** The RFC 9728 document as of now (the scopes definitions declare can change at run time). */
  metadata: () => ProtectedResourceMetadata
  /** Discovers the issuer and fetches its keys in the background, retrying until the identity provider answers. */
  start: () => void
  stop: () => void
}

export interface ResourceServerContext {
  log: Logger
  /** Every scope a tool, resource or prompt declares now, for `scopes_supported`. */
  operationScopes: () => readonly string[]
  /** Shown as the metadata's `resource_name`. */
  serverName: string
}

function metadataDocument (options: ResolvedOAuthOptions, context: ResourceServerContext): ProtectedResourceMetadata {
  const scopes = challengeScopes(options.scopes, context.operationScopes())
  const document: ProtectedResourceMetadata = {
    resource: options.resource,
    authorization_servers: [options.issuer],
    bearer_methods_supported: ['header'],
    resource_name: context.serverName
  }
  if (scopes.length > 0) document.scopes_supported = scopes
  if (options.resourceDocumentation !== undefined) document.resource_documentation = options.resourceDocumentation
  return document
}

/**
 * This server as an OAuth 2.1 resource server: access tokens from one authorization server, JWTs verified
 * against its keys or opaque tokens introspected, each verified token remembered until it expires.
 */
export function createOAuthResourceServer (input: unknown, context: ResourceServerContext): OAuthResourceServer {
  const options = resolveOAuthOptions(input)
  const log = context.log.child({ component: 'oauth' })
  const outage = createOutageLog(log, options.issuer)
  const needsDiscovery = options.jwksUri === undefined || (options.introspection !== undefined && options.introspection.url === undefined)
  const issuerMetadata = createIssuerMetadataSource(options.issuer, options.idpTimeoutMs, outage)

  async function jwksUri (): Promise<string | undefined> {
    return options.jwksUri ?? (await issuerMetadata.get()).jwks_uri
  }
  const keys = createKeySet({
    uri: async () => {
      const uri = await jwksUri()
      if (uri === undefined) throw new IdpUnavailableError('the authorization server metadata has no jwks_uri')
      return uri
    },
    cooldownMs: options.jwksCooldownMs,
    maxAgeMs: options.jwksMaxAgeMs,
    timeoutMs: options.idpTimeoutMs,
    outage
  })
  const verifyJwt = createJwtVerifier({ ...options, keys })
  const introspection = options.introspection
  const introspect = introspection === undefined
    ? undefined
    : createIntrospector({
      ...options,
      ...introspection,
      timeoutMs: options.idpTimeoutMs,
      outage,
      url: async () => {
        const url = introspection.url ?? (await issuerMetadata.get()).introspection_endpoint
        if (url === undefined) throw new IdpUnavailableError('the authorization server metadata has no introspection_endpoint: set auth.oauth.introspection.url')
        return url
      }
    })
  const cache = createVerifiedTokenCache()

  /** Checks a token the cache does not know, and remembers it when it passes. */
  async function check (token: string): Promise<OAuthIdentity> {
    if (looksLikeJwt(token) && (introspect === undefined || await jwksUri() !== undefined)) {
      const { claims, keyGeneration } = await verifyJwt(token)
      const identity = identityFromClaims(claims, options.issuer, options.claims)
      cache.set(token, identity, identity.expiresAt ?? 0, keyGeneration)
      return identity
    }
    if (introspect === undefined) throw new TokenRefusedError('the token is not a JWT, and this server has no introspection endpoint for opaque tokens')
    const { claims, expiresAt } = await introspect(token)
    const identity = identityFromClaims(claims, options.issuer, options.claims)
    cache.set(token, identity, Math.min(expiresAt ?? Infinity, Date.now() + INTROSPECTION_CACHE_MS), undefined)
    return identity
  }

  function judge (identity: OAuthIdentity): AuthorityVerdict {
    if (options.scopes.length === 0) return { identity }
    const missing = missingScopes(options.scopes, expandScopes(identity.scopes, options.scopeImplications))
    return missing.length === 0 ? { identity } : { insufficientScope: options.scopes, identity }
  }

  async function verify (token: string): Promise<AuthorityVerdict> {
    const cached = cache.get(token, keys.generation)
    if (cached !== undefined) return judge(cached)
    try {
      return judge(await check(token))
    } catch (error) {
      if (error instanceof TokenRefusedError) return { refused: error.message }
      if (error instanceof IdpUnavailableError) return { unavailable: error.message }
      throw error
    }
  }

  return {
    options,
    metadata: () => metadataDocument(options, context),
    resourceMetadataUrl: metadataUrlOf(options.resource),
    requiredScopes: challengeScopes(options.scopes),
    scopeImplications: options.scopeImplications,
    verify,
    start () {
      // Keys are fetched ahead of the first token; a failure is logged (once) and the first request tries again.
      const fetchKeys = (): void => {
        jwksUri().then((uri) => { if (uri !== undefined) keys.load().catch(() => {}) }, () => {})
      }
      if (needsDiscovery) issuerMetadata.start(fetchKeys)
      else fetchKeys()
    },
    stop: issuerMetadata.stop
  }
}
