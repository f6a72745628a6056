/**
 * The 2026-07-28 `subscriptions/listen` streams this process holds: capped like the SSE streams, and counted per
 * caller so that they count in `maxSessionsPerIdentity` too (a listen stream holds a connection as a session does).
 */
export class ListenStreams {
  private readonly held = new Map<string, number>()
  private open = 0

  constructor (readonly maxStreams: number) {}

  get size (): number {
    return this.open
  }

  get full (): boolean {
    return this.open >= this.maxStreams
  }

  /** Counts a stream in; the returned function counts it out (once). */
  add (quotaKey: string): () => void {
    this.open++
    this.held.set(quotaKey, (this.held.get(quotaKey) ?? 0) + 1)
    let removed = false
    return () => {
      if (removed) return
      removed = true
      this.open--
      const left = (this.held.get(quotaKey) ?? 1) - 1
      if (left > 0) this.held.set(quotaKey, left)
      else this.held.delete(quotaKey)
    }
  }

  readonly countHeldBy = (quotaKey: string): number => this.held.get(quotaKey) ?? 0
}
