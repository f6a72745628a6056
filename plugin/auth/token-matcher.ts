import { hash, timingSafeEqual } from 'node:crypto'
import type { AuthIdentity } from '../protocol/identity.js'
import type { NamedToken } from '../options.js'

function digest (token: string): Buffer {
  return hash('sha256', token, 'buffer')
}

/** A short, stable, non-secret name for an unnamed token, so logs can tell callers apart. */
export function tokenFingerprint (token: string): string {
  return `token-${digest(token).subarray(0, 4).toString('hex')}`
}

/** Tokens shorter than this share one comparison width, so the compare's cost does not depend on their length. */
const MIN_WIDTH = 256

/**
 * Finds the identity a presented token belongs to. Every known token is compared on every call, each over the
 * same fixed width (tokens zero-padded into a reused buffer) with `timingSafeEqual`, so timing says nothing about
 * which token, or how much of one, matched. No hashing or allocation on the request path.
 */
export function createTokenMatcher (tokens: ReadonlyArray<string | NamedToken>): (presented: string) => AuthIdentity | null {
  const width = Math.max(MIN_WIDTH, ...tokens.map((entry) => Buffer.byteLength(typeof entry === 'string' ? entry : entry.token)))
  const known = tokens.map((entry) => {
    const token = typeof entry === 'string' ? entry : entry.token
    const padded = Buffer.alloc(width)
    padded.write(token)
    const id = typeof entry === 'string' ? tokenFingerprint(entry) : entry.id
    return { padded, length: Buffer.byteLength(token), identity: Object.freeze({ id }) }
  })
  const scratch = Buffer.alloc(width)
  return (presented) => {
    // Header values reach us as latin1 strings, one character per byte received: written as latin1, the scratch
    // holds exactly the bytes the client sent (a token with UTF-8 characters matches its UTF-8 bytes).
    const length = presented.length
    // Longer than every known token: it cannot match, and saying so early tells nothing about any token.
    if (length > width) return null
    scratch.write(presented, 'latin1')
    scratch.fill(0, length)
    let match: AuthIdentity | null = null
    for (const entry of known) {
      const same = timingSafeEqual(scratch, entry.padded) && length === entry.length
      if (same && match === null) match = entry.identity
    }
    return match
  }
}

/**
 * Whether `presented` equals `known`, in a time that depends on the length of `presented` only: every character
 * is compared whatever the first difference (a string of another length is compared with itself, so the loop is
 * the same). The JavaScript counterpart of timingSafeEqual for strings already in hand, as in tweetnacl's verify.
 */
export function sameSecret (presented: string, known: string): boolean {
  const other = presented.length === known.length ? known : presented
  let difference = presented.length ^ known.length
  for (let i = 0; i < presented.length; i++) {
    difference |= presented.charCodeAt(i) ^ other.charCodeAt(i)
  }
  return difference === 0
}
