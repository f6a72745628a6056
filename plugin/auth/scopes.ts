/**
 * Scope arithmetic shared by the OAuth resource server and the per-operation scope guard: what a token grants
 * (with configured implications), what an operation is missing, and what a challenge may ask for.
 */

/** OIDC's scope for refresh tokens: a client's business, never something this server asks for. */
const NEVER_CHALLENGED = 'offline_access'

/** The scopes a token's claims grant: `scope` (space-separated), `scp` (array or string) and `scopes` (array). */
export function scopesFromClaims (claims: Record<string, unknown>): string[] {
  const found = new Set<string>()
  for (const name of ['scope', 'scp', 'scopes']) {
    const value = claims[name]
    const list = typeof value === 'string' ? value.split(' ') : Array.isArray(value) ? value : []
    for (const scope of list) if (typeof scope === 'string' && scope !== '') found.add(scope)
  }
  return [...found]
}

/** Implications like `admin → deploy:write`, applied transitively. */
export type ScopeImplications = ReadonlyMap<string, readonly string[]>

/** Everything `granted` stands for once implications are followed. */
export function expandScopes (granted: Iterable<string>, implications: ScopeImplications): Set<string> {
  const effective = new Set<string>()
  const pending = [...granted]
  while (pending.length > 0) {
    const scope = pending.pop() as string
    if (effective.has(scope)) continue
    effective.add(scope)
    for (const implied of implications.get(scope) ?? []) pending.push(implied)
  }
  return effective
}

/** The scopes of `required` that `effective` lacks, in the order they were required. */
export function missingScopes (required: readonly string[], effective: ReadonlySet<string>): string[] {
  return required.filter((scope) => !effective.has(scope))
}

/** Scopes fit for a challenge or the metadata: deduplicated, without `offline_access`. */
export function challengeScopes (...lists: Array<readonly string[]>): string[] {
  const scopes = new Set<string>()
  for (const list of lists) for (const scope of list) if (scope !== NEVER_CHALLENGED) scopes.add(scope)
  return [...scopes]
}
