import type { AuthIdentity } from '../protocol/identity.js'

/** What the OAuth resource server says about a bearer token the static list and the verify function did not take. */
export type AuthorityVerdict =
  | { identity: AuthIdentity }
  /** 401 `invalid_token`; the reason is logged and told to the client, and never quotes the token. */
  | { refused: string }
  /** 503 with Retry-After: the identity provider could not be asked (never 401, which starts a login loop). */
  | { unavailable: string }
  /** 403 `insufficient_scope`: a valid token without the scopes every request needs. */
  | { insufficientScope: readonly string[], identity: AuthIdentity }

/**
 * The contract between the bearer check and the OAuth resource server (plugin/auth/oauth/), which is loaded only
 * when `auth.oauth` is configured. Kept here so that the bearer check imports no OAuth code.
 */
export interface TokenAuthority {
  verify: (token: string) => Promise<AuthorityVerdict>
  /** The Protected Resource Metadata URL every challenge points to (RFC 9728 §5.1). */
  readonly resourceMetadataUrl: string
  /** Scopes every request needs, asked for in 401 challenges. */
  readonly requiredScopes: readonly string[]
  /** Scope implications (`admin` → `deploy:write`) the per-operation checks honour. */
  readonly scopeImplications: ReadonlyMap<string, readonly string[]>
}
