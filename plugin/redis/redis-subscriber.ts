import type { Redis } from 'ioredis'
import type { RedisLogger } from './redis-connection-state.js'

export type MessageListener = (message: string, channel: string) => void

/** At most this many channels in one SUBSCRIBE when a reconnected subscriber takes its channels back. */
const RESUBSCRIBE_BATCH = 500

/**
 * Every pub/sub channel of the process over ONE subscriber connection. Redis knows exactly the channels that
 * have a listener here: `PUBLISH` counts receivers, and a count of 0 must mean "nobody holds this", so a
 * channel left subscribed by a command that failed half-way is not acceptable. When that can happen (a
 * SUBSCRIBE or UNSUBSCRIBE that failed on a connection that looked alive), the connection is dropped and
 * re-made: Redis forgets everything of a closed connection, and `resubscribe` sends the channels we hold.
 */
export class RedisSubscriber {
  readonly #connection: Redis
  readonly #log: RedisLogger
  readonly #channels = new Map<string, { listeners: Set<MessageListener>, confirmed: Promise<unknown> }>()

  constructor (connection: Redis, log: RedisLogger) {
    this.#connection = connection
    this.#log = log
    connection.on('message', (channel: string, message: string) => { this.#deliver(channel, message) })
  }

  /** Channels with at least one listener in this process. */
  get channelCount (): number {
    return this.#channels.size
  }

  /** Resolves once Redis confirmed the subscription; rejects at once while Redis is down (nothing added). */
  async subscribe (channel: string, listener: MessageListener): Promise<void> {
    let entry = this.#channels.get(channel)
    if (entry === undefined) {
      const created = { listeners: new Set<MessageListener>(), confirmed: this.#send('subscribe', [channel]) }
      created.confirmed.catch(() => {
        if (this.#channels.get(channel) === created) this.#channels.delete(channel)
      })
      this.#channels.set(channel, created)
      entry = created
    }
    entry.listeners.add(listener)
    try {
      await entry.confirmed
    } catch (error) {
      entry.listeners.delete(listener)
      throw error
    }
  }

  /** Removes the listener; the last one of a channel unsubscribes. Never throws: Redis is brought in line. */
  async unsubscribe (channel: string, listener: MessageListener): Promise<void> {
    const entry = this.#channels.get(channel)
    if (entry === undefined || !entry.listeners.delete(listener) || entry.listeners.size > 0) return
    this.#channels.delete(channel)
    await this.#send('unsubscribe', [channel]).catch(() => { /* #send already re-made the connection */ })
  }

  /** Subscribes every channel we hold on a fresh connection (Redis forgot them with the old one). */
  async resubscribe (): Promise<void> {
    const channels = [...this.#channels.keys()]
    for (let start = 0; start < channels.length; start += RESUBSCRIBE_BATCH) {
      await this.#connection.subscribe(...channels.slice(start, start + RESUBSCRIBE_BATCH))
    }
  }

  async #send (command: 'subscribe' | 'unsubscribe', channels: string[]): Promise<unknown> {
    const wasReady = this.#connection.status === 'ready'
    try {
      return await this.#connection[command](...channels)
    } catch (error) {
      // Down already: Redis dropped the connection's channels and resubscribe restores ours. Alive: Redis may
      // or may not have applied the command, so start over on a new connection.
      if (wasReady && this.#connection.status === 'ready') {
        this.#log.warn({ err: error, command }, 'Redis pub/sub command failed on a live connection: reconnecting the subscriber')
        this.#connection.disconnect(true)
      }
      throw error
    }
  }

  #deliver (channel: string, message: string): void {
    const entry = this.#channels.get(channel)
    if (entry === undefined) return
    for (const listener of entry.listeners) {
      try {
        listener(message, channel)
      } catch (error) {
        this.#log.error({ err: error, channel }, 'A Redis message listener threw')
      }
    }
  }
}
