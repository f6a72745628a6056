import type { AuthIdentity } from '../protocol/identity.js'

/** Counts the sessions an identity holds in one kind of store (SSE, stateful), across the cluster if it is one. */
export type OwnedCounter = (ownerId: string) => number | Promise<number>

/** The optional cap on the sessions one caller identity holds, counted across every session store. */
export interface IdentityCap {
  /** Sessions per identity at most; undefined for no cap. */
  readonly limit: number | undefined
  /** True when `owner` already holds `limit` sessions. Callers without an identity (auth off) are never capped. */
  reached: (owner: AuthIdentity | null | undefined) => Promise<boolean>
}

export function createIdentityCap (limit: number | undefined, counters: ReadonlyArray<OwnedCounter | undefined>): IdentityCap {
  const counted = counters.filter((counter) => counter !== undefined)
  return {
    limit,
    async reached (owner) {
      if (limit === undefined || owner === null || owner === undefined) return false
      const held = await Promise.all(counted.map(async (count) => await count(owner.id)))
      return held.reduce((sum, count) => sum + count, 0) >= limit
    }
  }
}
