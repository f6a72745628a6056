/** The logger the Redis connection writes to: a pino logger (or Fastify's) fits. */
export interface RedisLogger {
  info: (obj: object, msg: string) => void
  warn: (obj: object, msg: string) => void
  error: (obj: object, msg: string) => void
}

export type RedisState = 'up' | 'down'
export type RedisLink = 'commands' | 'subscriber'
export type RedisStateListener = (state: RedisState) => void

/**
 * Up when both connections (commands and subscriber) are ready, down otherwise. Each transition is logged
 * once, however many requests fail meanwhile and however often the client retries.
 */
export class RedisConnectionState {
  readonly #address: string
  readonly #log: RedisLogger
  readonly #ready = new Set<RedisLink>()
  readonly #listeners = new Set<RedisStateListener>()
  #state: RedisState = 'down'
  #lastError: Error | undefined
  #downSince = 0
  #started = false

  constructor (address: string, log: RedisLogger) {
    this.#address = address
    this.#log = log
  }

  get state (): RedisState {
    return this.#state
  }

  /** The last connection error seen (for the start-up check's message). */
  get lastError (): Error | undefined {
    return this.#lastError
  }

  /** From here on, transitions are logged (before, the start-up check reports failures itself). */
  start (): void {
    this.#started = true
    this.#update()
  }

  /** Stops logging and notifying: the connections are being closed on purpose. */
  stop (): void {
    this.#started = false
    this.#listeners.clear()
  }

  linkUp (link: RedisLink): void {
    this.#ready.add(link)
    this.#update()
  }

  linkDown (link: RedisLink): void {
    this.#ready.delete(link)
    this.#update()
  }

  recordError (error: Error): void {
    this.#lastError = error
  }

  /** Calls `listener` on every transition; returns the function that stops it. */
  onChange (listener: RedisStateListener): () => void {
    this.#listeners.add(listener)
    return () => { this.#listeners.delete(listener) }
  }

  #update (): void {
    if (!this.#started) return
    const next: RedisState = this.#ready.size === 2 ? 'up' : 'down'
    if (next === this.#state) return
    this.#state = next
    if (next === 'down') {
      this.#downSince = Date.now()
      this.#log.warn({ redis: this.#address, err: this.#lastError }, 'Redis connection lost: cluster features answer 503 until it is back')
    } else if (this.#downSince === 0) {
      this.#log.info({ redis: this.#address }, 'Connected to Redis')
    } else {
      this.#log.info({ redis: this.#address, downMs: Date.now() - this.#downSince }, 'Redis connection restored')
      this.#lastError = undefined
    }
    for (const listener of this.#listeners) {
      try {
        listener(next)
      } catch (error) {
        this.#log.error({ err: error }, 'A Redis state listener threw')
      }
    }
  }
}
