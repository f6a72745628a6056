/**
 * Tracks requests in flight and whether the host is draining, so that a deploy can let running calls finish
 * while load balancers (via /health) and new callers (via 503) are told to go elsewhere.
 */
export interface Lifecycle {
  readonly draining: boolean
  readonly inFlight: number
  /** Counts a request in; the returned function counts it out (calling it twice counts once). */
  enter: () => () => void
  /** From now on /health answers 503 and new MCP requests are refused. */
  beginDrain: () => void
  /** Resolves when no request is in flight, or after `timeoutMs`, whichever comes first. */
  whenIdle: (timeoutMs: number) => Promise<boolean>
  /** Adds what ends a transport's open streams at shutdown (after the drain, or when the app closes). */
  onEndStreams: (endStreams: () => void) => void
  /** Ends every open stream cleanly: clients see the stream close, not a reset. */
  endStreams: () => void
}

export function createLifecycle (): Lifecycle {
  let draining = false
  let inFlight = 0
  let idleWaiters: Array<() => void> = []
  const streamEnders: Array<() => void> = []

  function leave (): void {
    inFlight--
    if (inFlight === 0 && idleWaiters.length > 0) {
      const waiters = idleWaiters
      idleWaiters = []
      for (const resolve of waiters) resolve()
    }
  }

  return {
    get draining () { return draining },
    get inFlight () { return inFlight },
    enter () {
      inFlight++
      let left = false
      return () => {
        if (left) return
        left = true
        leave()
      }
    },
    beginDrain () { draining = true },
    onEndStreams (endStreams) { streamEnders.push(endStreams) },
    endStreams () { for (const end of streamEnders) end() },
    async whenIdle (timeoutMs) {
      if (inFlight === 0) return true
      return await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => {
          idleWaiters = idleWaiters.filter((waiter) => waiter !== onIdle)
          resolve(false)
        }, timeoutMs)
        timer.unref()
        function onIdle (): void {
          clearTimeout(timer)
          resolve(true)
        }
        idleWaiters.push(onIdle)
      })
    }
  }
}
