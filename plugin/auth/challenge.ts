/**
 * `WWW-Authenticate: Bearer ...` values (RFC 6750 §3, RFC 9728 §5.1). Kept apart from the OAuth code so that the
 * scope guard can answer 403 without loading it.
 */

export type BearerError = 'invalid_request' | 'invalid_token' | 'insufficient_scope'

export interface ChallengeParts {
  /** RFC 9728: where clients find the Protected Resource Metadata. */
  resourceMetadata?: string
  /** Scopes the request needs (space-joined); omitted when empty. */
  scopes?: readonly string[]
  error?: BearerError
  /** Said to a person: what went wrong. Never holds the token. */
  description?: string
}

/** A quoted-string: backslash and double quote escaped, control characters dropped. */
function quoted (value: string): string {
  // eslint-disable-next-line no-control-regex
  return `"${value.replace(/[\x00-\x1f\x7f]/g, '').replace(/["\\]/g, '\\$&')}"`
}

/** `Bearer error="…", scope="…", resource_metadata="…", error_description="…"` with only the parts given. */
export function bearerChallenge ({ resourceMetadata, scopes, error, description }: ChallengeParts): string {
  const params: string[] = []
  if (error !== undefined) params.push(`error=${quoted(error)}`)
  if (scopes !== undefined && scopes.length > 0) params.push(`scope=${quoted(scopes.join(' '))}`)
  if (resourceMetadata !== undefined) params.push(`resource_metadata=${quoted(resourceMetadata)}`)
  // Last: clients find parameters with a first-match search, so free text must not come before them.
  if (description !== undefined) params.push(`error_description=${quoted(description)}`)
  return params.length === 0 ? 'Bearer' : `Bearer ${params.join(', ')}`
}
