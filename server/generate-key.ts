import { randomBytes } from 'node:crypto'

/** A new bearer token: 32 random bytes, base64url (43 characters, URL- and header-safe). */
export function generateKey (): string {
  return randomBytes(32).toString('base64url')
}
