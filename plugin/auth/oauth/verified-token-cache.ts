import { hash } from 'node:crypto'
import type { OAuthIdentity } from './oauth-identity.js'

interface Entry {
  identity: OAuthIdentity
  /** ms since the epoch; never later than the token's own expiry. */
  until: number
  /** The key-set fetch that verified a JWT; undefined for an introspected token. */
  keyGeneration: number | undefined
}

export interface VerifiedTokenCache {
  /** The identity of a token verified earlier, while the token lives and its key is still in the set. */
  get: (token: string, keyGeneration: number) => OAuthIdentity | undefined
  set: (token: string, identity: OAuthIdentity, until: number, keyGeneration: number | undefined) => void
  readonly size: number
}

/**
 * Verified tokens by their SHA-256 (the token itself is not kept), so that a client repeating its token is not
 * verified again on every request. Only tokens that passed every check get in, so the cache cannot be filled
 * with garbage; at `maxEntries` the oldest entry goes. A JWT entry is dropped once the key set was fetched again
 * (its key may be gone), any entry once its token expires.
 */
export function createVerifiedTokenCache (maxEntries = 10_000): VerifiedTokenCache {
  const entries = new Map<string, Entry>()
  return {
    get (token, keyGeneration) {
      const key = hash('sha256', token, 'base64url')
      const entry = entries.get(key)
      if (entry === undefined) return undefined
      if (Date.now() >= entry.until || (entry.keyGeneration !== undefined && entry.keyGeneration !== keyGeneration)) {
        entries.delete(key)
        return undefined
      }
      return entry.identity
    },
    set (token, identity, until, keyGeneration) {
      if (until <= Date.now()) return
      if (entries.size >= maxEntries) entries.delete(entries.keys().next().value as string)
      entries.set(hash('sha256', token, 'base64url'), { identity, until, keyGeneration })
    },
    get size () { return entries.size }
  }
}
