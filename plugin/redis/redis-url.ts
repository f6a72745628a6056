/**
 * Where Redis (or Valkey) is and how to log in, read from `redis://[user:pass@]host:port/db` or `rediss://`.
 * We parse the URL ourselves instead of handing it to the client library: its parser turns query parameters
 * into client options, and we want every option of ours to reach every connection, unchanged.
 */
export interface RedisEndpoint {
  readonly host: string
  readonly port: number
  readonly username: string | undefined
  readonly password: string | undefined
  readonly db: number
  /** `rediss://`: connect with TLS. */
  readonly tls: boolean
}

export const DEFAULT_REDIS_PORT = 6379

/** A mistake in a Redis URL; the message never contains the password. */
export class RedisUrlError extends Error {
  readonly code = 'MCP_ERR_REDIS_URL'

  constructor (message: string) {
    super(message)
    this.name = 'RedisUrlError'
  }
}

const EXPECTED = 'expected redis://[user:password@]host:port/db or rediss://… for TLS'

export function parseRedisUrl (url: string): RedisEndpoint {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    // The input may hold a password: never repeat it.
    throw new RedisUrlError(`Invalid Redis URL: ${EXPECTED}`)
  }
  const where = redactedUrl(parsed)
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new RedisUrlError(`Invalid Redis URL ${where}: ${EXPECTED}`)
  }
  if (parsed.hostname === '') throw new RedisUrlError(`Invalid Redis URL ${where}: no host; ${EXPECTED}`)
  if (parsed.search !== '' || parsed.hash !== '') {
    throw new RedisUrlError(`Invalid Redis URL ${where}: query parameters and fragments are not supported; ${EXPECTED}`)
  }
  const path = parsed.pathname.replace(/^\//, '')
  if (path !== '' && !/^(0|[1-9][0-9]{0,3})$/.test(path)) {
    throw new RedisUrlError(`Invalid Redis URL ${where}: the path must be a database number (0, 1, …); ${EXPECTED}`)
  }
  return {
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: parsed.port === '' ? DEFAULT_REDIS_PORT : Number(parsed.port),
    username: parsed.username === '' ? undefined : decodeURIComponent(parsed.username),
    password: parsed.password === '' ? undefined : decodeURIComponent(parsed.password),
    db: path === '' ? 0 : Number(path),
    tls: parsed.protocol === 'rediss:'
  }
}

/** `host:port` for log lines and error messages (brackets around an IPv6 address). */
export function endpointAddress (endpoint: Pick<RedisEndpoint, 'host' | 'port'>): string {
  const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host
  return `${host}:${endpoint.port}`
}

/** The URL as it may be shown: user name kept, password, query and fragment left out. */
function redactedUrl (parsed: URL): string {
  const auth = parsed.username === '' && parsed.password === '' ? '' : `${parsed.username}${parsed.password === '' ? '' : ':***'}@`
  const rest = parsed.search === '' && parsed.hash === '' ? '' : '…'
  return `${parsed.protocol}//${auth}${parsed.host}${parsed.pathname}${rest}`
}
