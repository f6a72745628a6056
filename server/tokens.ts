import { readFileSync } from 'node:fs'
import type { NamedToken } from '../plugin/options.js'
import { tokenFingerprint } from '../plugin/auth/token-matcher.js'
import { ConfigError } from './config-error.js'

/** An environment variable, with an empty value read as unset (as `FOO= node server` means). */
export function fromEnv (env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]
  return value === undefined || value === '' ? undefined : value
}

/** Printable ASCII without spaces: what fits in `Authorization: Bearer <token>`. The message never shows the token. */
function checkToken (token: string, where: string): void {
  if (!/^[\x21-\x7e]+$/.test(token)) {
    throw new ConfigError(`${where}: a token must be printable ASCII without spaces (make one with: node server generate-key)`)
  }
}

function tokensFromFile (file: string): NamedToken[] {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw new ConfigError(`Cannot read MCP_TOKEN_FILE "${file}": ${(error as Error).message}`)
  }
  const tokens: NamedToken[] = []
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const parts = line.split(/\s+/)
    if (parts.length > 2) throw new ConfigError(`MCP_TOKEN_FILE line ${index + 1}: expected "token" or "name token"`)
    const [name, token] = parts.length === 2 ? parts : [undefined, parts[0]]
    checkToken(token, `MCP_TOKEN_FILE line ${index + 1}`)
    tokens.push({ token, id: name ?? tokenFingerprint(token) })
  }
  if (tokens.length === 0) {
    throw new ConfigError(`MCP_TOKEN_FILE "${file}" holds no token: put one a line, "token" or "name token" (make one with: node server generate-key)`)
  }
  return tokens
}

/**
 * Tokens from MCP_TOKEN (comma-separated) and MCP_TOKEN_FILE (`token` or `name token` a line; # comments). Each
 * unnamed token is its own identity, named by a fingerprint; named tokens that share a name are one identity.
 */
export function loadTokens (env: NodeJS.ProcessEnv): NamedToken[] {
  const tokens: NamedToken[] = []
  for (const token of (fromEnv(env, 'MCP_TOKEN') ?? '').split(',').map((t) => t.trim()).filter((t) => t !== '')) {
    checkToken(token, 'MCP_TOKEN')
    tokens.push({ token, id: tokenFingerprint(token) })
  }
  const file = fromEnv(env, 'MCP_TOKEN_FILE')
  if (file !== undefined) tokens.push(...tokensFromFile(file))
  const seen = new Map<string, string>()
  for (const { token, id } of tokens) {
    const earlier = seen.get(token)
    if (earlier !== undefined && earlier !== id) {
      throw new ConfigError(`One token is configured for two identities ("${earlier}" and "${id}"): give each identity its own tokens`)
    }
    seen.set(token, id)
  }
  return tokens
}
