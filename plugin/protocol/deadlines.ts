/** A call's deadline in the shared sweep; `cancel` removes it when the call ends first. */
export interface Deadline {
  cancel: () => void
}

interface Entry {
  at: number
  expire: () => void
}

/**
 * Timeouts of a second or more share one coarse sweep instead of a timer each: most calls end long before
 * their timeout, and creating and clearing a timer per call showed in the hot path's profile. Short timeouts
 * still get their own timer, for precision. The sweep's interval stops at the first tick with nothing pending.
 */
class DeadlineSweep {
  private readonly entries = new Set<Entry>()
  private timer: NodeJS.Timeout | undefined

  constructor (private readonly resolutionMs: number) {}

  add (ms: number, expire: () => void): Deadline {
    const entry: Entry = { at: Date.now() + ms, expire }
    this.entries.add(entry)
    if (this.timer === undefined) {
      // Not unref'd: like a call's own timer, a pending deadline keeps the process alive until the call ends.
      this.timer = setInterval(() => { this.sweep() }, this.resolutionMs)
    }
    return { cancel: () => { this.remove(entry) } }
  }

  private remove (entry: Entry): void {
    this.entries.delete(entry)
  }

  /** Stops the interval only at a sweep that finds nothing left, so back-to-back calls share one timer. */
  private sweep (): void {
    const now = Date.now()
    for (const entry of this.entries) {
      if (entry.at > now) continue
      this.remove(entry)
      entry.expire()
    }
    if (this.entries.size === 0 && this.timer !== undefined) {
      clearInterval(this.timer)
      this.timer = undefined
    }
  }
}

const COARSE_FROM_MS = 1000
const sweep = new DeadlineSweep(100)

/** Calls `expire` after about `ms` (within 100 ms for timeouts of a second or more). */
export function scheduleDeadline (ms: number, expire: () => void): Deadline {
  if (ms >= COARSE_FROM_MS) return sweep.add(ms, expire)
  const timer = setTimeout(expire, ms)
  return { cancel: () => { clearTimeout(timer) } }
}
