import { createLocalJWKSet, errors, type CryptoKey, type JWSHeaderParameters } from 'jose'
import { fetchJson, IdpUnavailableError, type OutageLog } from './idp-outage.js'

/** No key of the current set fits the token's header (`kid`, `alg`), and fetching again did not change that. */
export class UnknownKeyError extends Error {
  override readonly name = 'UnknownKeyError'
}

type LocalSet = ReturnType<typeof createLocalJWKSet>

export interface ResolvedKeys {
  /** Usually one; several when the token names no `kid` and more than one key fits its `alg`. */
  keys: CryptoKey[]
  /** Which fetch of the set the key came from: a verification cached under an older generation is redone. */
  generation: number
}

export interface KeySet {
  /** The keys a token's header may mean. Throws UnknownKeyError (401) or IdpUnavailableError (503). */
  resolve: (header: JWSHeaderParameters) => Promise<ResolvedKeys>
  /** Fetches now (start-up); rejects when the identity provider cannot be reached. */
  load: () => Promise<void>
  readonly generation: number
}

export interface KeySetOptions {
  /** The JWKS URL; asked for on each fetch, since it comes from discovery. */
  uri: () => Promise<string>
  cooldownMs: number
  maxAgeMs: number
  timeoutMs: number
  outage: OutageLog
  /** After a failed fetch, the next waits this long (so an outage does not turn every request into a fetch). */
  retryMs?: number
}

/**
 * The identity provider's signing keys, fetched on demand and cached. An unknown `kid` causes one fetch, and not
 * another until `cooldownMs` has passed (a stream of made-up `kid`s costs the provider one request per cooldown).
 * After `maxAgeMs` the set is fetched again in the background while the old one keeps serving, so tokens signed
 * with cached keys keep working while the provider is down; a key gone from a fetched set is refused at once.
 */
export function createKeySet (options: KeySetOptions): KeySet {
  const retryMs = options.retryMs ?? 1_000
  let local: LocalSet | undefined
  let generation = 0
  let fetchedAt = 0
  let lastAttempt = -Infinity
  let lastFailure: { at: number, error: Error } | undefined
  let pending: Promise<void> | undefined

  async function fetchSet (): Promise<void> {
    lastAttempt = Date.now()
    try {
      const uri = await options.uri()
      const { status, body } = await fetchJson(uri, options.timeoutMs, { headers: { accept: 'application/json, application/jwk-set+json' } })
      if (status !== 200) throw new IdpUnavailableError(`the key set at ${uri} answered ${status}`)
      try {
        local = createLocalJWKSet(body as Parameters<typeof createLocalJWKSet>[0])
      } catch (error) {
        throw new IdpUnavailableError(`the key set at ${uri} is not a JSON Web Key Set`, { cause: error })
      }
      generation++
      fetchedAt = Date.now()
      lastFailure = undefined
      options.outage.succeeded()
    } catch (error) {
      const failure = error instanceof IdpUnavailableError ? error : new IdpUnavailableError(String(error), { cause: error })
      lastFailure = { at: Date.now(), error: failure }
      options.outage.failed('signing keys', failure)
      throw failure
    }
  }

  /** One fetch at a time; callers that arrive meanwhile share its outcome. */
  async function load (): Promise<void> {
    if (lastFailure !== undefined && Date.now() - lastFailure.at < retryMs && pending === undefined) throw lastFailure.error
    pending ??= fetchSet().finally(() => { pending = undefined })
    await pending
  }

  async function lookup (header: JWSHeaderParameters): Promise<CryptoKey[] | undefined> {
    try {
      return [await (local as LocalSet)(header) as CryptoKey]
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey) return undefined
      if (error instanceof errors.JWKSMultipleMatchingKeys) {
        const keys: CryptoKey[] = []
        for await (const key of error as unknown as AsyncIterable<CryptoKey>) keys.push(key)
        return keys
      }
      throw error
    }
  }

  async function resolve (header: JWSHeaderParameters): Promise<ResolvedKeys> {
    if (local === undefined) await load()
    else if (Date.now() - fetchedAt > options.maxAgeMs && pending === undefined) {
      // Stale: refresh in the background; until then (and if it fails) the keys in hand keep serving.
      load().catch(() => {})
    }
    const keys = await lookup(header)
    if (keys !== undefined) return { keys, generation }
    if (Date.now() - lastAttempt < options.cooldownMs) throw new UnknownKeyError('no key of the identity provider fits the token (its kid is unknown)')
    await load()
    const refetched = await lookup(header)
    if (refetched === undefined) throw new UnknownKeyError('no key of the identity provider fits the token, even after fetching its keys again')
    return { keys: refetched, generation }
  }

  return {
    resolve,
    load,
    get generation () { return generation }
  }
}
