import { hash, timingSafeEqual } from 'node:crypto'
import type { AuthIdentity } from '../protocol/identity.js'
import type { NamedToken } from '../options.js'

function digest (token: string): Buffer {
  return hash('sha256', token, 'buffer')
}

/** A short, stable, non-secret name for an unnamed token, so logs can tell callers apart. */
export function tokenFingerprint (token: string): string {
  return `token-${digest(token).subarray(0, 4).toString('hex')}`
}

/**
 * Finds the identity a presented token belongs to. Tokens are compared as SHA-256 digests (equal length
 * whatever the input) and every known token is compared on every call, so timing says nothing about which
 * token, or how much of one, matched.
 */
export function createTokenMatcher (tokens: ReadonlyArray<string | NamedToken>): (presented: string) => AuthIdentity | null {
  const known = tokens.map((entry) => {
    const token = typeof entry === 'string' ? entry : entry.token
    const id = typeof entry === 'string' ? tokenFingerprint(entry) : entry.id
    return { digest: digest(token), identity: Object.freeze({ id }) }
  })
  return (presented) => {
    const candidate = digest(presented)
    let match: AuthIdentity | null = null
    for (const entry of known) {
      if (timingSafeEqual(candidate, entry.digest) && match === null) match = entry.identity
    }
    return match
  }
}
