/**
 * Every key and pub/sub channel the host uses lives under one prefix, so that several hosts (or other
 * applications) can share a Redis. Pub/sub channels are global across databases, so they take the prefix too.
 */
export interface RedisKeyspace {
  readonly prefix: string
  /** `prefix` + the parts joined by `:`; each part is percent-encoded, so a `:` inside one cannot collide. */
  key: (...parts: string[]) => string
  /** Same layout as `key`, for pub/sub channels. */
  channel: (...parts: string[]) => string
}

export const DEFAULT_KEY_PREFIX = 'mcp:'

/** Printable ASCII without spaces, up to 64 characters: it shows up in every key, so keep it short. */
const PREFIX_PATTERN = /^[\x21-\x7e]{1,64}$/

export function isValidKeyPrefix (prefix: string): boolean {
  return PREFIX_PATTERN.test(prefix)
}

export function createRedisKeyspace (prefix: string = DEFAULT_KEY_PREFIX): RedisKeyspace {
  if (!isValidKeyPrefix(prefix)) {
    throw new RangeError(`Invalid Redis key prefix ${JSON.stringify(prefix)}: use 1-64 printable ASCII characters without spaces, e.g. "${DEFAULT_KEY_PREFIX}"`)
  }
  const join = (parts: string[]): string => {
    if (parts.length === 0) throw new RangeError('A Redis key needs at least one part after the prefix')
    return prefix + parts.map((part) => encodeURIComponent(part)).join(':')
  }
  return { prefix, key: (...parts) => join(parts), channel: (...parts) => join(parts) }
}
