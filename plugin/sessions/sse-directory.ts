/** Where a legacy SSE session's stream is held, and who opened it. */
export interface SseLocation {
  replica: string
  ownerId: string | null
}

/**
 * Which replica of a cluster holds each legacy SSE stream, so that a `POST /messages` reaching another replica can
 * be relayed to it. An entry lives as long as its replica keeps beating: a replica that dies takes its entries
 * with it within the liveness window. A process alone needs none: every stream it knows of is its own.
 */
export interface SseDirectory {
  /** Records that this replica holds the stream of session `id`; resolves once any replica can find it. */
  announce: (id: string, ownerId: string | null, quotaKey: string) => Promise<void>
  locate: (id: string) => Promise<SseLocation | undefined>
  /** Removes the entry (the stream ended, or its replica is gone). */
  forget: (id: string) => Promise<void>
  /** Streams counted against `quotaKey` across the cluster. */
  countHeldBy: (quotaKey: string) => Promise<number>
  /** Streams open across the cluster. */
  count: () => Promise<number>
  /** Streams open across the cluster, as last counted (with the heartbeat). */
  readonly size: number
}
