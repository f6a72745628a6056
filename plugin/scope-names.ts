import { configErrors } from './errors.js'

/** A scope token of RFC 6749 §3.3: printable ASCII without spaces, quotes or backslashes. */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/

/**
 * Checks the `scopes` a tool, resource or prompt declares, whatever the auth mode: a definition is refused at
 * register (or when added) for a value that could never be granted, as for any other invalid field.
 */
export function checkScopeNames (kind: string, name: string, scopes: unknown): void {
  if (scopes === undefined) return
  if (!Array.isArray(scopes) || !scopes.every((scope) => typeof scope === 'string' && SCOPE_TOKEN.test(scope))) {
    throw configErrors.invalidDefinition(kind, name, '"scopes" must be an array of scope names (no spaces, quotes or backslashes)')
  }
}
