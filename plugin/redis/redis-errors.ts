/** Errors of the Redis connection, worded for the person who runs the host. No password ever appears here. */

/** Redis could not be reached (or refused the login) when the host started: one line naming host and port. */
export class RedisUnreachableError extends Error {
  readonly code = 'MCP_ERR_REDIS_UNREACHABLE'
  /** `host:port` of the Redis that could not be reached. */
  readonly address: string

  constructor (address: string, cause: Error | undefined, secrets: ReadonlyArray<string | undefined>) {
    const reason = redact(oneLine(cause?.message ?? 'no answer'), secrets)
    const loginRefused = /\b(WRONGPASS|NOAUTH|NOPERM)\b/.test(reason)
    super(loginRefused
      ? `Redis at ${address} refused the login (${reason}): check the user name and password in the Redis URL.`
      : `Cannot reach Redis at ${address} (${reason}): start it, or correct the Redis URL.`)
    this.name = 'RedisUnreachableError'
    this.address = address
  }
}

/**
 * True when a command failed because Redis is unreachable, slow or the connection broke (answer 503 with
 * Retry-After and try later), false when Redis answered with an error (a bug in the command: don't retry).
 */
export function isRedisUnavailableError (error: unknown): boolean {
  if (!(error instanceof Error)) return false
  return error.name !== 'ReplyError'
}

function oneLine (text: string): string {
  return text.replace(/\s+/g, ' ').trim()
}

function redact (text: string, secrets: ReadonlyArray<string | undefined>): string {
  let out = text
  for (const secret of secrets) {
    if (secret !== undefined && secret !== '') out = out.split(secret).join('***')
  }
  return out
}
