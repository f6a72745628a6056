import { Redis, type RedisOptions } from 'ioredis'
import type { ConnectionOptions as TlsOptions } from 'node:tls'
import { RedisConnectionState, type RedisLink, type RedisLogger, type RedisState, type RedisStateListener } from './redis-connection-state.js'
import { RedisUnreachableError } from './redis-errors.js'
import { createRedisKeyspace, type RedisKeyspace } from './redis-keyspace.js'
import { endpointAddress, parseRedisUrl } from './redis-url.js'
import { RedisSubscriber, type MessageListener } from './redis-subscriber.js'

/**
 * The process's two connections to Redis (or Valkey): one for commands, and ONE subscriber for every pub/sub
 * channel. Loaded with a dynamic `import()` only when cluster mode is configured: nothing else imports ioredis.
 */
export interface RedisConnectionOptions {
  /** `redis://[user:password@]host:port/db`, or `rediss://…` for TLS. Give this or `client`. */
  url?: string
  /**
   * An ioredis client the host application already has (e.g. `fastify.redis` from @fastify/redis). It is
   * only duplicated, keeping its host, port, user, password, database and TLS settings; the host keeps using
   * and closing its own client.
   */
  client?: Redis
  /** Extra TLS settings for `rediss://` URLs, e.g. `{ ca }` for a private CA. Node also reads NODE_EXTRA_CA_CERTS. */
  tls?: TlsOptions
  /** Prefix of every key and channel. Default `mcp:`; give each host sharing one Redis its own. */
  keyPrefix?: string
  /** A command without an answer for this long fails (and its caller answers 503). Default 2000 ms. */
  commandTimeoutMs?: number
  /** How long opening a TCP (or TLS) connection may take. Default 5000 ms. */
  connectTimeoutMs?: number
  /** Reconnection attempts back off up to this delay. Default 2000 ms. */
  reconnectMaxDelayMs?: number
  /** Both connections are pinged this often, so that a Redis that hangs is noticed without traffic. Default 5000 ms. */
  pingIntervalMs?: number
  /** `CLIENT SETNAME` of the connections: `<name>:commands` and `<name>:subscriber`. Default `mcp-host`. */
  connectionName?: string
  logger: RedisLogger
}

export interface RedisConnection {
  /**
   * The command connection (ioredis). While Redis is down its commands fail at once instead of queueing; a
   * command without an answer fails after `commandTimeoutMs`. Never SUBSCRIBE on it: use `subscribe`.
   */
  readonly commands: Redis
  /** Key and channel names under the configured prefix. */
  readonly keys: RedisKeyspace
  /** `host:port`, for logs and status reports. */
  readonly address: string
  /** `up` while both connections are ready. */
  readonly state: RedisState
  onStateChange: (listener: RedisStateListener) => () => void
  /** Resolves once Redis confirmed; rejects at once while Redis is down. Listeners run on the subscriber connection. */
  subscribe: (channel: string, listener: MessageListener) => Promise<void>
  /** The last listener of a channel unsubscribes it. Never rejects. */
  unsubscribe: (channel: string, listener: MessageListener) => Promise<void>
  /** How many subscribers (across the cluster) received the message: 0 means nobody holds the channel. */
  publish: (channel: string, message: string) => Promise<number>
  /** Closes both connections (never the host application's client). */
  close: () => Promise<void>
}

const DEFAULTS = {
  commandTimeoutMs: 2_000,
  connectTimeoutMs: 5_000,
  reconnectMaxDelayMs: 2_000,
  pingIntervalMs: 5_000,
  connectionName: 'mcp-host'
}

/**
 * Opens both connections and waits until they are ready: the start-up check. Rejects with a one-line
 * `RedisUnreachableError` naming host and port (never the password) when Redis cannot be reached or refuses
 * the login. From then on the connections reconnect by themselves, and state changes are logged once each.
 */
export async function connectRedis (options: RedisConnectionOptions): Promise<RedisConnection> {
  const settings = resolveSettings(options)
  const keys = createRedisKeyspace(options.keyPrefix)
  const commands = createCommandConnection(options, settings)
  const address = endpointAddress({ host: commands.options.host ?? '127.0.0.1', port: commands.options.port ?? 6379 })
  const subscriberConnection = commands.duplicate({ connectionName: `${settings.connectionName}:subscriber` })
  const state = new RedisConnectionState(address, options.logger)
  const subscriber = new RedisSubscriber(subscriberConnection, options.logger)
  track(commands, 'commands', state, async () => {})
  track(subscriberConnection, 'subscriber', state, async () => { await subscriber.resubscribe() })

  try {
    await withDeadline(Promise.all([commands.connect(), subscriberConnection.connect()]), settings.connectTimeoutMs + settings.commandTimeoutMs)
  } catch (error) {
    commands.disconnect()
    subscriberConnection.disconnect()
    throw new RedisUnreachableError(address, state.lastError ?? (error as Error), [commands.options.password])
  }
  state.start()
  const pinger = setInterval(() => {
    for (const connection of [commands, subscriberConnection]) {
      if (connection.status === 'ready') connection.ping().catch(() => { /* a timeout re-makes the connection */ })
    }
  }, settings.pingIntervalMs).unref()

  return {
    commands,
    keys,
    address,
    get state () { return state.state },
    onStateChange: (listener) => state.onChange(listener),
    subscribe: async (channel, listener) => { await subscriber.subscribe(channel, listener) },
    unsubscribe: async (channel, listener) => { await subscriber.unsubscribe(channel, listener) },
    publish: async (channel, message) => await commands.publish(channel, message),
    close: async () => {
      clearInterval(pinger)
      state.stop()
      await Promise.all([quit(commands), quit(subscriberConnection)])
    }
  }
}

type Settings = typeof DEFAULTS

/** Options that make a command fail fast while Redis is down, instead of waiting in a queue. */
function failFastOptions (settings: Settings): RedisOptions {
  return {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    autoResubscribe: false,
    enableReadyCheck: true,
    keyPrefix: '',
    commandTimeout: settings.commandTimeoutMs,
    // A connection whose Redis stops answering (paused, partitioned) is dropped and re-made.
    socketTimeout: settings.commandTimeoutMs + 1_000,
    connectTimeout: settings.connectTimeoutMs,
    retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 10), settings.reconnectMaxDelayMs),
    maintNotifications: 'disabled',
    connectionName: `${settings.connectionName}:commands`
  }
}

function createCommandConnection (options: RedisConnectionOptions, settings: Settings): Redis {
  if (options.client !== undefined) {
    if (options.url !== undefined) throw new TypeError('Give Redis either a URL or a client, not both')
    if ((options.client as { isCluster?: boolean }).isCluster === true) {
      throw new TypeError('A Redis Cluster client is not supported: give a client of a single Redis (or Valkey) server, or a URL')
    }
    return options.client.duplicate(failFastOptions(settings))
  }
  if (options.url === undefined) throw new TypeError('Redis needs a URL (redis://host:port) or a client')
  const endpoint = parseRedisUrl(options.url)
  return new Redis({
    host: endpoint.host,
    port: endpoint.port,
    username: endpoint.username,
    password: endpoint.password,
    db: endpoint.db,
    ...(endpoint.tls ? { tls: { ...options.tls } } : {}),
    ...failFastOptions(settings)
  })
}

/** Follows one connection's ups and downs; `onReady` runs before the connection counts as up. */
function track (connection: Redis, link: RedisLink, state: RedisConnectionState, onReady: () => Promise<void>): void {
  connection.on('error', (error: Error) => { state.recordError(error) })
  connection.on('close', () => { state.linkDown(link) })
  connection.on('ready', () => {
    onReady().then(() => {
      if (connection.status === 'ready') state.linkUp(link)
    }, (error: Error) => {
      state.recordError(error)
      connection.disconnect(true)
    })
  })
}

async function withDeadline<T> (work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => { reject(new Error(`no answer within ${ms} ms`)) }, ms)
  })
  try {
    return await Promise.race([work, deadline])
  } finally {
    clearTimeout(timer)
  }
}

async function quit (connection: Redis): Promise<void> {
  if (connection.status === 'end') return
  if (connection.status !== 'ready') {
    connection.disconnect()
    return
  }
  await connection.quit().catch(() => { connection.disconnect() })
}

function resolveSettings (options: RedisConnectionOptions): Settings {
  const settings = { ...DEFAULTS }
  for (const name of ['commandTimeoutMs', 'connectTimeoutMs', 'reconnectMaxDelayMs', 'pingIntervalMs'] as const) {
    const value = options[name]
    if (value === undefined) continue
    if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`Redis option ${name} must be a whole number of milliseconds above 0, got ${String(value)}`)
    settings[name] = value
  }
  if (options.connectionName !== undefined) settings.connectionName = options.connectionName
  return settings
}
