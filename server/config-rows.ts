import type { McpConfig } from '../plugin/options.js'
import type { ServerSettings } from './server-settings.js'

/**
 * The one table of what `node server` reads from its command line and environment. Each row says where a value
 * comes from (a flag, a variable, or both: the flag wins; an empty variable counts as unset), how its text is
 * read, and where it goes: a path in the plugin's options (plugin/options.ts) or a server-only setting
 * (server/server-settings.ts). Defaults and validation live in those schemas; the usage text and docs/configuration.md's
 * table are made from, or checked against, these rows. A new option is one schema property and one row here.
 */

/** Dotted paths into an options object, e.g. `sse.maxSessions`: a misspelled row path fails to compile. */
type PathsOf<T> = {
  [K in keyof T & string]: NonNullable<T[K]> extends readonly unknown[]
    ? K
    : NonNullable<T[K]> extends Record<string, unknown> ? K | `${K}.${PathsOf<NonNullable<T[K]>>}` : K
}[keyof T & string]

export type OptionPath = PathsOf<McpConfig>

/** What a flag or a variable gave: its text, or `true`/`false` for a flag without a value (`--sse`, `--no-sse`). */
export type RawValue = string | boolean

/** Turns the text into the value the schema checks. A text it cannot read is passed on for the schema to refuse. */
export type Parse = (raw: RawValue) => unknown

export const text: Parse = (raw) => raw

export const integer: Parse = (raw) =>
  typeof raw === 'string' && raw.trim() !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw

const TRUE = ['1', 'true', 'yes', 'on']
const FALSE = ['0', 'false', 'no', 'off']

export const boolean: Parse = (raw) => {
  if (typeof raw === 'boolean') return raw
  if (TRUE.includes(raw.toLowerCase())) return true
  if (FALSE.includes(raw.toLowerCase())) return false
  return raw
}

/** Comma-separated, entries trimmed, empty entries dropped (a list of nothing is the schema's to refuse). */
export const list: Parse = (raw) =>
  typeof raw === 'string' ? raw.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '') : raw

/** `deploy=5,search=100`: calls per window of each named tool. An entry it cannot read leaves the text for the schema to refuse. */
export const toolLimits: Parse = (raw) => {
  const entries = list(raw)
  if (!Array.isArray(entries)) return raw
  const limits = entries.map((entry: string) => /^([^=\s]+)\s*=\s*(\d+)$/.exec(entry))
  return limits.every((match) => match !== null) ? limits.map((match) => ({ name: match?.[1], max: Number(match?.[2]) })) : raw
}

interface RowText {
  /** Environment variable. */
  env?: string
  /** Long flag, without the dashes. Boolean rows take no value; the others take one (`--port 3100`, `--port=3100`). */
  flag?: string
  /** A boolean flag that also has a `--no-<flag>` form. */
  negatable?: boolean
  /** The flag's value in the usage text, e.g. `<number>`. */
  placeholder?: string
  /** One line for the usage text. */
  describe: string
  /** What a good value looks like, for the error message, where the schema's constraints do not say it well. */
  expected?: string
  /** The default in words, where the schema has none (the plugin decides at run time) or the number needs a unit. */
  defaultText?: string
  /** Never shown back in an error message. */
  secret?: boolean
}

export type ConfigRow = RowText & (
  | { option: OptionPath, parse: Parse }
  | { setting: keyof ServerSettings, parse: Parse }
  /** Tokens are read by server/tokens.ts (a list or a file; each checked, never echoed), and only for HTTP. */
  | { tokens: 'list' | 'file' }
)

export const CONFIG_ROWS: readonly ConfigRow[] = [
  { flag: 'transport', placeholder: 'http|stdio', env: 'MCP_TRANSPORT', setting: 'transport', parse: text, describe: 'serve over HTTP, or over stdin/stdout' },
  { flag: 'host', placeholder: '<address>', env: 'HOST', setting: 'host', parse: text, describe: 'address to listen on; beyond loopback it needs a token (or --no-auth)', expected: 'an address such as 127.0.0.1 or 0.0.0.0' },
  { flag: 'port', placeholder: '<number>', env: 'PORT', setting: 'port', parse: integer, describe: 'port to listen on; 0 picks a free one' },
  { env: 'MCP_TOKEN', tokens: 'list', describe: 'a bearer token, or several separated by commas' },
  { env: 'MCP_TOKEN_FILE', tokens: 'file', describe: 'a file of tokens, one a line: "token" or "name token"' },
  { flag: 'no-auth', setting: 'noAuth', parse: boolean, describe: 'serve HTTP without auth, on purpose (refused together with a token)' },
  { flag: 'tools', placeholder: '<path>', env: 'MCP_TOOLS', setting: 'toolsModule', parse: text, describe: 'ES module whose default export is an array of tools', expected: 'the path of an ES module', defaultText: 'built-in tools' },
  { flag: 'sse', negatable: true, env: 'MCP_SSE', option: 'routes.sse', parse: boolean, describe: 'the legacy HTTP+SSE endpoints (/sse, /messages)' },
  { env: 'MCP_SSE_MAX_SESSIONS', option: 'sse.maxSessions', parse: integer, describe: 'open SSE streams at most' },
  { env: 'MCP_SSE_IDLE_TIMEOUT_MS', option: 'sse.idleTimeoutMs', parse: integer, describe: 'an SSE session with no traffic for this long is closed (ms)' },
  { flag: 'stateful', env: 'MCP_STATEFUL', option: 'streamable.sessions', parse: boolean, describe: 'protocol sessions on /mcp' },
  { env: 'MCP_STATEFUL_MAX_SESSIONS', option: 'streamable.maxSessions', parse: integer, describe: 'open stateful sessions at most' },
  { env: 'MCP_STATEFUL_IDLE_TIMEOUT_MS', option: 'streamable.idleTimeoutMs', parse: integer, describe: 'a stateful session with no traffic for this long is ended (ms)' },
  { env: 'MCP_SHUTDOWN_GRACE_MS', setting: 'shutdownGraceMs', parse: integer, describe: 'on SIGTERM/SIGINT, how long calls in flight may take to finish (ms)' },
  { env: 'MCP_REQUEST_TIMEOUT_MS', setting: 'requestTimeoutMs', parse: integer, describe: 'how long a request (headers and body) may take to arrive (ms); 0 for no limit', defaultText: '30000 (30 s)' },
  { env: 'MCP_HEADERS_TIMEOUT_MS', setting: 'headersTimeoutMs', parse: integer, describe: 'how long its headers may take (ms), at most the request timeout', defaultText: '10000 (10 s)' },
  { env: 'MCP_KEEP_ALIVE_TIMEOUT_MS', setting: 'keepAliveTimeoutMs', parse: integer, describe: 'how long an idle keep-alive connection stays open (ms)', defaultText: '72000 (72 s)' },
  { env: 'MCP_MAX_CONNECTIONS', setting: 'maxConnections', parse: integer, describe: 'open connections at most, all clients together' },
  { env: 'MCP_MAX_CONNECTIONS_PER_ADDRESS', setting: 'maxConnectionsPerAddress', parse: integer, describe: 'open connections one client address may hold; 0 for no limit' },
  {
    env: 'MCP_ALLOWED_HOSTS',
    option: 'allowedHosts',
    parse: list,
    describe: 'Host names the MCP routes answer to, comma-separated',
    expected: 'host names such as mcp.example.com or mcp.example.com:8443, separated by commas',
    defaultText: 'loopback names on loopback, any otherwise'
  },
  {
    env: 'MCP_ALLOWED_ORIGINS',
    option: 'allowedOrigins',
    parse: list,
    describe: 'browser Origins allowed, comma-separated (* for any)',
    expected: 'origins such as https://app.example.com, separated by commas, or *',
    defaultText: 'loopback origins on loopback, none otherwise'
  },
  { env: 'MCP_BODY_LIMIT', option: 'bodyLimit', parse: integer, describe: 'largest request body on the MCP routes, in bytes', defaultText: '1048576 (1 MiB)' },
  { env: 'MCP_TOOL_TIMEOUT_MS', option: 'toolTimeoutMs', parse: integer, describe: 'how long a tool call may run (ms); 0 for no limit' },
  {
    env: 'MCP_REQUEST_STATE_SECRET',
    option: 'requestStateSecret',
    parse: text,
    secret: true,
    describe: 'signs 2026 requestState; the same on every instance behind a load balancer',
    expected: 'at least 16 characters; make one with: node server generate-key',
    defaultText: 'random per process'
  },
  { env: 'MCP_MAX_SESSIONS_PER_IDENTITY', option: 'maxSessionsPerIdentity', parse: integer, describe: 'sessions (SSE and stateful together) one identity (or, without auth, one client address) may hold', defaultText: 'half the smallest session cap' },
  { env: 'MCP_SSE_MAX_IN_FLIGHT', option: 'sse.maxInFlight', parse: integer, describe: 'requests one SSE session may have running at once' },
  { env: 'MCP_RATE_LIMIT', option: 'rateLimit.max', parse: integer, describe: 'requests one identity (or, without auth, one client address) may send per window on the MCP routes', defaultText: 'none (off)' },
  { env: 'MCP_RATE_LIMIT_TOOLS', option: 'rateLimit.tools', parse: toolLimits, describe: 'calls of a tool one identity may make per window, e.g. deploy=5,search=100', expected: 'tool=number pairs separated by commas, such as deploy=5,search=100', defaultText: 'none' },
  { env: 'MCP_RATE_LIMIT_WINDOW_MS', option: 'rateLimit.timeWindowMs', parse: integer, describe: 'the window of the rate limits (ms)', defaultText: '60000 (1 min)' },
  { env: 'MCP_AUTH_FAILURE_LOG_LEVEL', option: 'authFailureLogLevel', parse: text, describe: 'level of the log line for each refused credential' },
  { env: 'MCP_OAUTH_ISSUER', setting: 'oauthIssuer', parse: text, describe: 'accept access tokens from this OAuth authorization server (docs/oauth.md)', expected: 'an issuer URL such as https://auth.example.com' },
  { env: 'MCP_RESOURCE_URL', setting: 'resourceUrl', parse: text, describe: 'this server\'s URL as clients reach it, e.g. https://mcp.example.com/mcp; needed with MCP_OAUTH_ISSUER', expected: 'a URL such as https://mcp.example.com/mcp' },
  { env: 'MCP_OAUTH_SCOPES', setting: 'oauthScopes', parse: list, describe: 'scopes every MCP request needs, comma-separated' },
  { env: 'MCP_OAUTH_AUDIENCE', setting: 'oauthAudience', parse: list, describe: 'aud values to require instead of MCP_RESOURCE_URL, comma-separated', defaultText: 'MCP_RESOURCE_URL' },
  { env: 'MCP_OAUTH_SCOPE_IMPLICATIONS', setting: 'oauthScopeImplications', parse: text, describe: 'scopes that imply others, e.g. admin=deploy:write deploy:read,owner=admin' },
  { env: 'MCP_OAUTH_INTROSPECTION_URL', setting: 'oauthIntrospectionUrl', parse: text, describe: 'RFC 7662 endpoint for opaque tokens', defaultText: 'the issuer\'s, with MCP_OAUTH_CLIENT_ID' },
  { env: 'MCP_OAUTH_CLIENT_ID', setting: 'oauthClientId', parse: text, describe: 'this server\'s client id at the introspection endpoint' },
  { env: 'MCP_OAUTH_CLIENT_SECRET', setting: 'oauthClientSecret', parse: text, secret: true, describe: 'that client\'s secret' },
  {
    env: 'MCP_REDIS_URL',
    option: 'cluster.redisUrl',
    parse: text,
    secret: true,
    describe: 'cluster mode: replicas share sessions through this Redis or Valkey',
    expected: 'redis://[user:password@]host:port/db or rediss://… for TLS',
    defaultText: 'none (one process, in memory)'
  },
  { env: 'MCP_REDIS_KEY_PREFIX', option: 'cluster.keyPrefix', parse: text, describe: 'prefix of every Redis key and channel of this host' },
  { env: 'MCP_CLUSTER_LIVENESS_MS', option: 'cluster.livenessMs', parse: integer, describe: 'a replica silent this long is dead: its SSE sessions and running calls are lost (ms)' },
  { flag: 'log-level', placeholder: '<level>', env: 'LOG_LEVEL', setting: 'logLevel', parse: text, describe: 'fatal, error, warn, info, debug, trace or silent' },
  { env: 'MCP_LOG_CALLS', option: 'telemetry.logCalls', parse: boolean, describe: 'one info line per MCP message in place of Fastify\'s two request lines on the MCP routes (docs/observability.md)' },
  { env: 'MCP_METRICS_PORT', setting: 'metricsPort', parse: integer, describe: 'serve Prometheus metrics at /metrics on this port, a listener apart from the MCP port', defaultText: 'none (no metrics)' },
  { env: 'MCP_METRICS_HOST', setting: 'metricsHost', parse: text, describe: 'address of the metrics listener', expected: 'an address such as 127.0.0.1' },
  {
    env: 'OTEL_EXPORTER_OTLP_ENDPOINT',
    setting: 'otlpEndpoint',
    parse: text,
    describe: 'turns tracing on: spans per MCP request exported over OTLP/HTTP (other OTEL_* variables apply)',
    expected: 'a URL such as http://collector:4318',
    defaultText: 'none (no tracing)'
  },
  { env: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', setting: 'otlpTracesEndpoint', parse: text, describe: 'the same, for traces only (the full URL, e.g. http://collector:4318/v1/traces)', expected: 'a URL', defaultText: 'none (no tracing)' }
]
