import type { AuthIdentity } from '../protocol/identity.js'
import type { SessionStore } from './session-store.js'

/** The optional cap on the sessions one caller identity holds, counted across every session store. */
export interface IdentityCap {
  /** Sessions per identity at most; undefined for no cap. */
  readonly limit: number | undefined
  /** True when `owner` already holds `limit` sessions. Callers without an identity (auth off) are never capped. */
  reached: (owner: AuthIdentity | null | undefined) => boolean
}

export function createIdentityCap (limit: number | undefined, stores: ReadonlyArray<Pick<SessionStore, 'countOwnedBy'> | undefined>): IdentityCap {
  const counted = stores.filter((store) => store !== undefined)
  return {
    limit,
    reached (owner) {
      if (limit === undefined || owner === null || owner === undefined) return false
      let held = 0
      for (const store of counted) held += store.countOwnedBy(owner.id)
      return held >= limit
    }
  }
}
