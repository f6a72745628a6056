import { discoverIssuer, type IssuerMetadata } from './issuer-discovery.js'
import type { OutageLog } from './idp-outage.js'

export interface IssuerMetadataSource {
  /** The metadata, discovered once; rejects with IdpUnavailableError while it cannot be had. */
  get: () => Promise<IssuerMetadata>
  /** Discovers in the background, retrying with backoff until it succeeds; `onReady` runs after success. */
  start: (onReady: () => void) => void
  stop: () => void
}

const RETRY_AFTER_FAILURE_MS = 1_000
const MAX_BACKOFF_MS = 60_000

/**
 * The authorization server's metadata, for a server that must start even when the identity provider is down: the
 * first attempt runs at start-up, failures are retried with backoff (1 s, 2 s, 4 s, ... 1 min) on an unref'd
 * timer, and a request that needs the metadata meanwhile makes its own attempt at most once a second.
 */
export function createIssuerMetadataSource (issuer: string, timeoutMs: number, outage: OutageLog): IssuerMetadataSource {
  let metadata: IssuerMetadata | undefined
  let pending: Promise<IssuerMetadata> | undefined
  let lastFailure: { at: number, error: unknown } | undefined
  let timer: NodeJS.Timeout | undefined
  let stopped = false

  async function attempt (): Promise<IssuerMetadata> {
    try {
      metadata = await discoverIssuer(issuer, timeoutMs)
      lastFailure = undefined
      outage.succeeded()
      return metadata
    } catch (error) {
      lastFailure = { at: Date.now(), error }
      outage.failed('authorization server metadata', error)
      throw error
    }
  }

  async function get (): Promise<IssuerMetadata> {
    if (metadata !== undefined) return metadata
    if (pending === undefined && lastFailure !== undefined && Date.now() - lastFailure.at < RETRY_AFTER_FAILURE_MS) throw lastFailure.error
    pending ??= attempt().finally(() => { pending = undefined })
    return await pending
  }

  function start (onReady: () => void): void {
    let backoff = RETRY_AFTER_FAILURE_MS
    const tryNow = (): void => {
      timer = undefined
      get().then(onReady, () => {
        if (stopped) return
        timer = setTimeout(tryNow, backoff).unref()
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS)
      })
    }
    tryNow()
  }

  return {
    get,
    start,
    stop () {
      stopped = true
      if (timer !== undefined) clearTimeout(timer)
    }
  }
}
