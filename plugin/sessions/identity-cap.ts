/** Counts the sessions held against a quota key in one kind of store (SSE, stateful, listen streams). */
export type QuotaCounter = (quotaKey: string) => number | Promise<number>

/**
 * The cap on the sessions one caller holds, counted across every kind of session (and across the cluster). A
 * caller is its identity, or its client address when auth is off: its quota key.
 */
export interface IdentityCap {
  readonly limit: number
  /** True when `quotaKey` already holds `limit` sessions. */
  reached: (quotaKey: string) => Promise<boolean>
}

export function createIdentityCap (limit: number, counters: ReadonlyArray<QuotaCounter | undefined>): IdentityCap {
  const counted = counters.filter((counter) => counter !== undefined)
  return {
    limit,
    async reached (quotaKey) {
      const held = await Promise.all(counted.map(async (count) => await count(quotaKey)))
      return held.reduce((sum, count) => sum + count, 0) >= limit
    }
  }
}

/** Whom a request's new session counts against: its identity, or its client address when auth is off. */
export function quotaKeyOf (identity: { id: string } | null | undefined, address: string): string {
  return identity === null || identity === undefined ? `address:${address}` : `identity:${identity.id}`
}
