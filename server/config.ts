import { parseArgs } from 'node:util'
import { readFileSync } from 'node:fs'
import type { NamedToken } from '../plugin/options.js'
import type { OAuthOptions } from '../plugin/auth/oauth/oauth-options.js'
import { tokenFingerprint } from '../plugin/auth/token-matcher.js'

/** Everything `node server` can be told, from flags and environment (a flag wins over its variable). */
export interface ServerConfig {
  transport: 'http' | 'stdio'
  host: string
  port: number
  /** Empty for stdio, which has no auth: the client that spawns the process is the only caller. */
  tokens: NamedToken[]
  noAuth: boolean
  toolsModule: string | undefined
  sse: boolean
  sseMaxSessions: number
  sseIdleTimeoutMs: number
  /** Protocol sessions on `/mcp` (Mcp-Session-Id, GET stream, resumable answers); stateless when false. */
  stateful: boolean
  statefulMaxSessions: number
  statefulIdleTimeoutMs: number
  shutdownGraceMs: number
  logLevel: string
  /** Host names (or host:port) the MCP routes answer to; undefined for the plugin's default. */
  allowedHosts: string[] | undefined
  /** Origins browsers may call from (`*` for any); undefined for the plugin's default. */
  allowedOrigins: string[] | undefined
  /** Largest request body on the MCP routes, in bytes. */
  bodyLimit: number
  toolTimeoutMs: number
  /** Sessions (SSE and stateful together) one identity may hold; undefined for no cap. */
  maxSessionsPerIdentity: number | undefined
  sseMaxInFlight: number
  authFailureLogLevel: string
  /** Signs 2026-era requestState; undefined for a random secret per process. */
  requestStateSecret: string | undefined
  /** OAuth resource server (MCP_OAUTH_ISSUER and MCP_RESOURCE_URL); undefined without it. */
  oauth: OAuthOptions | undefined
}

/** A mistake in the command line or environment: printed as is, exit code 1. */
export class ConfigError extends Error {}

const DEFAULT_PORT = 3100
const DEFAULT_HOST = '127.0.0.1'
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

export const USAGE = `Usage: node server [options]            serve MCP over HTTP (default) or stdio
       node server generate-key           print a new random token and exit

Options (flag, then environment variable; the flag wins):
  --transport http|stdio   MCP_TRANSPORT          default http
  --host <address>         HOST                   default ${DEFAULT_HOST}
  --port <number>          PORT                   default ${DEFAULT_PORT}
  (token)                  MCP_TOKEN              one token, or several separated by commas
  (token file)             MCP_TOKEN_FILE         one token a line, optionally "name token"
  --no-auth                                       serve HTTP without auth (explicit opt-out)
  --tools <path>           MCP_TOOLS              ES module whose default export is an array of tools
  --sse / --no-sse         MCP_SSE=0|1            legacy HTTP+SSE endpoints (default on)
  (SSE cap)                MCP_SSE_MAX_SESSIONS   default 50
  (SSE idle timeout)       MCP_SSE_IDLE_TIMEOUT_MS default 1800000 (30 minutes)
  --stateful               MCP_STATEFUL=0|1       protocol sessions on /mcp (default off)
  (stateful cap)           MCP_STATEFUL_MAX_SESSIONS default 100
  (stateful idle timeout)  MCP_STATEFUL_IDLE_TIMEOUT_MS default 1800000 (30 minutes)
  (drain grace)            MCP_SHUTDOWN_GRACE_MS  default 8000
  (hosts)                  MCP_ALLOWED_HOSTS      Host names the MCP routes answer to, comma-separated
  (origins)                MCP_ALLOWED_ORIGINS    browser Origins allowed, comma-separated (* for any)
  (body limit)             MCP_BODY_LIMIT         bytes, default 1048576 (1 MiB)
  (2026 requestState key)  MCP_REQUEST_STATE_SECRET same value on every instance behind a load balancer
  (tool timeout)           MCP_TOOL_TIMEOUT_MS    default 300000 (5 minutes); 0 for none
  (sessions per caller)    MCP_MAX_SESSIONS_PER_IDENTITY  default none
  (SSE requests running)   MCP_SSE_MAX_IN_FLIGHT  per session, default 32
  (auth failure logs)      MCP_AUTH_FAILURE_LOG_LEVEL default warn
  (OAuth issuer)           MCP_OAUTH_ISSUER       accept access tokens from this authorization server
  (this server's URI)      MCP_RESOURCE_URL       e.g. https://mcp.example.com/mcp; required with MCP_OAUTH_ISSUER
  (OAuth scopes)           MCP_OAUTH_SCOPES       scopes every request needs, comma-separated
  (OAuth audience)         MCP_OAUTH_AUDIENCE     aud to require instead of MCP_RESOURCE_URL
  (scope implications)     MCP_OAUTH_SCOPE_IMPLICATIONS  e.g. admin=deploy:write deploy:read,owner=admin
  (opaque tokens)          MCP_OAUTH_INTROSPECTION_URL  with MCP_OAUTH_CLIENT_ID, MCP_OAUTH_CLIENT_SECRET
  --log-level <level>      LOG_LEVEL              default info
  --help, --version
`

/** An environment variable, with an empty value read as unset (as `FOO= node server` means). */
function fromEnv (env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]
  return value === undefined || value === '' ? undefined : value
}

function integer (name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback
  const value = Number(raw)
  if (raw.trim() === '' || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`)
  }
  return value
}

function oneOf (name: string, raw: string | undefined, allowed: string[], fallback: string): string {
  if (raw === undefined) return fallback
  if (!allowed.includes(raw)) throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`)
  return raw
}

function flag (raw: string | undefined, name: string): boolean | undefined {
  if (raw === undefined) return undefined
  if (['1', 'true', 'yes', 'on'].includes(raw.toLowerCase())) return true
  if (['0', 'false', 'no', 'off'].includes(raw.toLowerCase())) return false
  throw new ConfigError(`${name} must be 1 or 0 (true or false), got "${raw}"`)
}

function optionalInteger (name: string, raw: string | undefined, min: number, max: number): number | undefined {
  return raw === undefined ? undefined : integer(name, raw, min, min, max)
}

/** A comma-separated list; undefined when unset, refused when it names nothing. */
function list (name: string, raw: string | undefined, check: (entry: string) => boolean, expected: string): string[] | undefined {
  if (raw === undefined) return undefined
  const entries = raw.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '')
  if (entries.length === 0) throw new ConfigError(`${name} lists nothing: give ${expected}, separated by commas, or unset it`)
  const wrong = entries.find((entry) => !check(entry))
  if (wrong !== undefined) throw new ConfigError(`${name}: "${wrong}" is not ${expected}`)
  return entries
}

const isHostName = (entry: string): boolean => /^(\[[0-9a-f:.]+\]|[a-z0-9._-]+)(:\d{1,5})?$/i.test(entry)

function isOrigin (entry: string): boolean {
  if (entry === '*') return true
  try {
    const url = new URL(entry)
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === entry.replace(/\/$/, '').toLowerCase()
  } catch {
    return false
  }
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

const FLAGS = {
  transport: { type: 'string' },
  host: { type: 'string' },
  port: { type: 'string' },
  tools: { type: 'string' },
  'no-auth': { type: 'boolean' },
  sse: { type: 'boolean' },
  'no-sse': { type: 'boolean' },
  stateful: { type: 'boolean' },
  'log-level': { type: 'string' }
} as const

function parseFlags (argv: string[]) {
  try {
    return parseArgs({ args: argv, options: FLAGS, strict: true }).values
  } catch (error) {
    throw new ConfigError(`${(error as Error).message}\n\n${USAGE}`)
  }
}

export function parseConfig (argv: string[], env: NodeJS.ProcessEnv): ServerConfig {
  const values = parseFlags(argv)
  const transport = values.transport ?? fromEnv(env, 'MCP_TRANSPORT') ?? 'http'
  if (transport !== 'http' && transport !== 'stdio') {
    throw new ConfigError(`--transport must be "http" or "stdio", got "${transport}"`)
  }
  if (values.sse === true && values['no-sse'] === true) throw new ConfigError('--sse and --no-sse contradict each other: pick one')
  const sse = values['no-sse'] === true ? false : values.sse ?? flag(fromEnv(env, 'MCP_SSE'), 'MCP_SSE') ?? true
  const host = values.host ?? fromEnv(env, 'HOST') ?? DEFAULT_HOST
  if (host === '') throw new ConfigError('--host needs an address, e.g. 127.0.0.1 or 0.0.0.0')
  const logLevel = values['log-level'] ?? fromEnv(env, 'LOG_LEVEL') ?? 'info'
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError(`--log-level / LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`)
  const noAuth = values['no-auth'] === true
  const tokens = transport === 'http' ? loadTokens(env) : []
  if (noAuth && tokens.length > 0) {
    throw new ConfigError('--no-auth contradicts MCP_TOKEN / MCP_TOKEN_FILE: unset the tokens, or drop --no-auth to require them')
  }
  const oauth = transport === 'http' ? oauthFromEnv(env) : undefined
  if (noAuth && oauth !== undefined) {
    throw new ConfigError('--no-auth contradicts MCP_OAUTH_ISSUER: unset the OAuth variables, or drop --no-auth to require tokens')
  }
  return {
    transport,
    host,
    port: integer('--port / PORT', values.port ?? fromEnv(env, 'PORT'), DEFAULT_PORT, 0, 65535),
    tokens,
    noAuth,
    toolsModule: values.tools ?? fromEnv(env, 'MCP_TOOLS'),
    sse,
    sseMaxSessions: integer('MCP_SSE_MAX_SESSIONS', fromEnv(env, 'MCP_SSE_MAX_SESSIONS'), 50, 1, 100_000),
    sseIdleTimeoutMs: integer('MCP_SSE_IDLE_TIMEOUT_MS', fromEnv(env, 'MCP_SSE_IDLE_TIMEOUT_MS'), 30 * 60_000, 1, 7 * 24 * 3_600_000),
    stateful: values.stateful ?? flag(fromEnv(env, 'MCP_STATEFUL'), 'MCP_STATEFUL') ?? false,
    statefulMaxSessions: integer('MCP_STATEFUL_MAX_SESSIONS', fromEnv(env, 'MCP_STATEFUL_MAX_SESSIONS'), 100, 1, 100_000),
    statefulIdleTimeoutMs: integer('MCP_STATEFUL_IDLE_TIMEOUT_MS', fromEnv(env, 'MCP_STATEFUL_IDLE_TIMEOUT_MS'), 30 * 60_000, 1, 7 * 24 * 3_600_000),
    shutdownGraceMs: integer('MCP_SHUTDOWN_GRACE_MS', fromEnv(env, 'MCP_SHUTDOWN_GRACE_MS'), 8_000, 0, 600_000),
    logLevel,
    allowedHosts: list('MCP_ALLOWED_HOSTS', fromEnv(env, 'MCP_ALLOWED_HOSTS'), isHostName, 'a host name such as mcp.example.com or mcp.example.com:8443'),
    allowedOrigins: list('MCP_ALLOWED_ORIGINS', fromEnv(env, 'MCP_ALLOWED_ORIGINS'), isOrigin, 'an origin such as https://app.example.com, or *'),
    bodyLimit: integer('MCP_BODY_LIMIT', fromEnv(env, 'MCP_BODY_LIMIT'), 1024 * 1024, 1024, 1024 * 1024 * 1024),
    toolTimeoutMs: integer('MCP_TOOL_TIMEOUT_MS', fromEnv(env, 'MCP_TOOL_TIMEOUT_MS'), 300_000, 0, 24 * 3_600_000),
    maxSessionsPerIdentity: optionalInteger('MCP_MAX_SESSIONS_PER_IDENTITY', fromEnv(env, 'MCP_MAX_SESSIONS_PER_IDENTITY'), 1, 100_000),
    sseMaxInFlight: integer('MCP_SSE_MAX_IN_FLIGHT', fromEnv(env, 'MCP_SSE_MAX_IN_FLIGHT'), 32, 1, 10_000),
    authFailureLogLevel: oneOf('MCP_AUTH_FAILURE_LOG_LEVEL', fromEnv(env, 'MCP_AUTH_FAILURE_LOG_LEVEL'), LOG_LEVELS, 'warn'),
    requestStateSecret: secret('MCP_REQUEST_STATE_SECRET', fromEnv(env, 'MCP_REQUEST_STATE_SECRET')),
    oauth
  }
}

function secret (name: string, raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined
  if (raw.length < 16) throw new ConfigError(`${name} must be at least 16 characters; make one with: node server generate-key`)
  return raw
}

function url (name: string, raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined
  try {
    const parsed = new URL(raw)
    if (parsed.protocol === 'https:' || parsed.protocol === 'http:') return raw
  } catch {}
  throw new ConfigError(`${name} must be an absolute URL such as https://auth.example.com, got "${raw}"`)
}

/** `admin=deploy:write deploy:read,owner=admin`: each scope before `=` implies the ones after it. */
function scopeImplications (raw: string | undefined): Record<string, string[]> | undefined {
  if (raw === undefined) return undefined
  const implications: Record<string, string[]> = {}
  for (const entry of raw.split(',').map((part) => part.trim()).filter((part) => part !== '')) {
    const [scope, implied, extra] = entry.split('=')
    const list = implied?.trim().split(/\s+/).filter((part) => part !== '') ?? []
    if (extra !== undefined || scope.trim() === '' || list.length === 0) {
      throw new ConfigError(`MCP_OAUTH_SCOPE_IMPLICATIONS: "${entry}" is not "scope=implied implied..." (entries separated by commas)`)
    }
    implications[scope.trim()] = list
  }
  return implications
}

/** The OAuth resource server from MCP_OAUTH_* and MCP_RESOURCE_URL; undefined when MCP_OAUTH_ISSUER is unset. */
function oauthFromEnv (env: NodeJS.ProcessEnv): OAuthOptions | undefined {
  const issuer = url('MCP_OAUTH_ISSUER', fromEnv(env, 'MCP_OAUTH_ISSUER'))
  const resource = url('MCP_RESOURCE_URL', fromEnv(env, 'MCP_RESOURCE_URL'))
  const introspectionUrl = url('MCP_OAUTH_INTROSPECTION_URL', fromEnv(env, 'MCP_OAUTH_INTROSPECTION_URL'))
  const clientId = fromEnv(env, 'MCP_OAUTH_CLIENT_ID')
  const clientSecret = fromEnv(env, 'MCP_OAUTH_CLIENT_SECRET')
  if (issuer === undefined) {
    const stray = ['MCP_RESOURCE_URL', 'MCP_OAUTH_SCOPES', 'MCP_OAUTH_AUDIENCE', 'MCP_OAUTH_INTROSPECTION_URL', 'MCP_OAUTH_CLIENT_ID', 'MCP_OAUTH_SCOPE_IMPLICATIONS']
      .find((name) => fromEnv(env, name) !== undefined)
    if (stray !== undefined) throw new ConfigError(`${stray} needs MCP_OAUTH_ISSUER: the authorization server whose access tokens this server accepts`)
    return undefined
  }
  if (resource === undefined) {
    throw new ConfigError('MCP_OAUTH_ISSUER needs MCP_RESOURCE_URL: this server\'s URL as clients reach it, e.g. https://mcp.example.com/mcp')
  }
  if ((clientId === undefined) !== (clientSecret === undefined) || (introspectionUrl !== undefined && clientId === undefined)) {
    throw new ConfigError('Token introspection needs MCP_OAUTH_CLIENT_ID and MCP_OAUTH_CLIENT_SECRET together (MCP_OAUTH_INTROSPECTION_URL defaults to the issuer\'s introspection endpoint)')
  }
  const scopes = fromEnv(env, 'MCP_OAUTH_SCOPES')?.split(/[\s,]+/).filter((scope) => scope !== '')
  const audience = list('MCP_OAUTH_AUDIENCE', fromEnv(env, 'MCP_OAUTH_AUDIENCE'), (entry) => entry !== '', 'an audience value')
  const oauth: OAuthOptions = { issuer, resource }
  if (scopes !== undefined) oauth.scopes = scopes
  if (audience !== undefined) oauth.audience = audience
  const implications = scopeImplications(fromEnv(env, 'MCP_OAUTH_SCOPE_IMPLICATIONS'))
  if (implications !== undefined) oauth.scopeImplications = implications
  if (clientId !== undefined && clientSecret !== undefined) {
    oauth.introspection = introspectionUrl === undefined ? { clientId, clientSecret } : { url: introspectionUrl, clientId, clientSecret }
  }
  return oauth
}

/** Addresses only this machine can reach; anything else needs a token (or an explicit --no-auth). */
export function isLoopback (host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
}
