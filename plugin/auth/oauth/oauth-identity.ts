import type { AuthIdentity } from '../../protocol/identity.js'
import { scopesFromClaims } from '../scopes.js'

/** A caller admitted with an OAuth access token, as handlers see it in `ctx.auth`. The token itself is never kept. */
export interface OAuthIdentity extends AuthIdentity {
  /** `oauth|<issuer>|<sub>|<client id>` (sub and client id URI-encoded): stable across token refreshes. */
  id: string
  issuer: string
  /** The token's `sub`; for a client acting on its own behalf (client credentials) without one, its client id. */
  subject: string
  /** `client_id` (RFC 9068), else `azp`: the application the user authorised. */
  clientId: string | undefined
  /** The scopes the token grants, as the token says them (implications are applied when scopes are checked). */
  scopes: readonly string[]
  /** The claims the `claims` option selects, when the token has them. */
  claims: Readonly<Record<string, unknown>>
  /** When the token expires (ms since the epoch), when known. */
  expiresAt: number | undefined
}

function stringClaim (claims: Record<string, unknown>, name: string): string | undefined {
  const value = claims[name]
  return typeof value === 'string' && value !== '' ? value : undefined
}

/** The identity of a verified token's claims. Callers have checked that `sub` or `client_id` is present. */
export function identityFromClaims (claims: Record<string, unknown>, issuer: string, selected: readonly string[]): OAuthIdentity {
  const clientId = stringClaim(claims, 'client_id') ?? stringClaim(claims, 'azp')
  const subject = stringClaim(claims, 'sub') ?? clientId ?? ''
  const picked: Record<string, unknown> = {}
  for (const name of selected) if (claims[name] !== undefined) picked[name] = claims[name]
  const exp = claims.exp
  return Object.freeze({
    id: `oauth|${issuer}|${encodeURIComponent(subject)}|${encodeURIComponent(clientId ?? '')}`,
    issuer,
    subject,
    clientId,
    scopes: Object.freeze(scopesFromClaims(claims)),
    claims: Object.freeze(picked),
    expiresAt: typeof exp === 'number' ? exp * 1000 : undefined
  })
}
