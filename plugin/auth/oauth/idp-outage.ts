import type { Logger } from '../../protocol/logger.js'

/**
 * The identity provider (its metadata, keys or introspection endpoint) could not be reached or answered nonsense:
 * a request that needs it gets 503 with Retry-After, never 401 (which would send the client into a login loop).
 */
export class IdpUnavailableError extends Error {
  override readonly name = 'IdpUnavailableError'
}

/** Turns whatever a fetch threw into a one-line reason (no URL query strings, no secrets). */
export function describeFailure (error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: { code?: string, message?: string } }).cause
    if (error.name === 'TimeoutError') return 'timed out'
    return cause?.code ?? cause?.message ?? error.message
  }
  return String(error)
}

export interface OutageLog {
  /** True between a failure and the next success. */
  readonly down: boolean
  failed: (what: string, error: unknown) => void
  succeeded: () => void
}

/** Logs an outage of the identity provider once when it starts and once when it ends, however many requests hit it. */
export function createOutageLog (log: Logger, issuer: string): OutageLog {
  let since: number | undefined
  return {
    get down () { return since !== undefined },
    failed (what, error) {
      if (since !== undefined) return
      since = Date.now()
      log.warn({ issuer, what, reason: describeFailure(error) },
        'Identity provider unreachable: requests that need it get 503 until it answers again (logged once per outage)')
    },
    succeeded () {
      if (since === undefined) return
      log.info({ issuer, downForMs: Date.now() - since }, 'Identity provider reachable again')
      since = undefined
    }
  }
}

/** GETs a JSON document from the identity provider; network failures, timeouts and 5xx are IdpUnavailableError. */
export async function fetchJson (url: string, timeoutMs: number, init: RequestInit = {}): Promise<{ status: number, body: unknown }> {
  let response: Response
  try {
    response = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) })
  } catch (error) {
    throw new IdpUnavailableError(`${new URL(url).origin} did not answer: ${describeFailure(error)}`, { cause: error })
  }
  if (response.status >= 500) {
    await response.body?.cancel()
    throw new IdpUnavailableError(`${new URL(url).origin} answered ${response.status}`)
  }
  let body: unknown
  try {
    body = await response.json()
  } catch (error) {
    if (response.ok) throw new IdpUnavailableError(`${new URL(url).origin} answered with a body that is not JSON`, { cause: error })
    body = undefined
  }
  return { status: response.status, body }
}
