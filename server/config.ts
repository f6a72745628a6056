import { parseArgs } from 'node:util'
import { readFileSync } from 'node:fs'
import type { NamedToken } from '../plugin/options.js'
import { tokenFingerprint } from '../plugin/auth/token-matcher.js'

/** Everything `node server` can be told, from flags and environment (a flag wins over its variable). */
export interface ServerConfig {
  transport: 'http' | 'stdio'
  host: string
  port: number
  tokens: NamedToken[]
  noAuth: boolean
  toolsModule: string | undefined
  sse: boolean
  sseMaxSessions: number
  sseIdleTimeoutMs: number
  shutdownGraceMs: number
  logLevel: string
}

/** A mistake in the command line or environment: printed as is, exit code 1. */
export class ConfigError extends Error {}

export const USAGE = `Usage: node server [options]            serve MCP over HTTP (default) or stdio
       node server generate-key           print a new random token and exit

Options (flag, then environment variable; the flag wins):
  --transport http|stdio   MCP_TRANSPORT          default http
  --host <address>         HOST                   default 127.0.0.1
  --port <number>          PORT                   default 3100
  (token)                  MCP_TOKEN              one token, or several separated by commas
  (token file)             MCP_TOKEN_FILE         one token a line, optionally "name token"
  --no-auth                                       serve HTTP without auth (explicit opt-out)
  --tools <path>           MCP_TOOLS              ES module whose default export is an array of tools
  --sse / --no-sse         MCP_SSE=0|1            legacy HTTP+SSE endpoints (default on)
  (SSE cap)                MCP_SSE_MAX_SESSIONS   default 50
  (SSE idle timeout)       MCP_SSE_IDLE_TIMEOUT_MS default 1800000 (30 minutes)
  (drain grace)            MCP_SHUTDOWN_GRACE_MS  default 10000
  --log-level <level>      LOG_LEVEL              default info
  --help, --version
`

function integer (name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`)
  }
  return value
}

function flag (raw: string | undefined, name: string): boolean | undefined {
  if (raw === undefined || raw === '') return undefined
  if (['1', 'true', 'yes', 'on'].includes(raw.toLowerCase())) return true
  if (['0', 'false', 'no', 'off'].includes(raw.toLowerCase())) return false
  throw new ConfigError(`${name} must be 1 or 0 (true or false), got "${raw}"`)
}

/** Tokens from MCP_TOKEN (comma-separated) and MCP_TOKEN_FILE (`token` or `name token` a line; # comments). */
export function loadTokens (env: NodeJS.ProcessEnv): NamedToken[] {
  const tokens: NamedToken[] = []
  for (const token of (env.MCP_TOKEN ?? '').split(',').map((t) => t.trim()).filter((t) => t !== '')) {
    tokens.push({ token, id: tokenFingerprint(token) })
  }
  const file = env.MCP_TOKEN_FILE
  if (file !== undefined && file !== '') {
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch (error) {
      throw new ConfigError(`Cannot read MCP_TOKEN_FILE "${file}": ${(error as Error).message}`)
    }
    for (const [index, raw] of text.split(/\r?\n/).entries()) {
      const line = raw.trim()
      if (line === '' || line.startsWith('#')) continue
      const parts = line.split(/\s+/)
      if (parts.length > 2) throw new ConfigError(`MCP_TOKEN_FILE line ${index + 1}: expected "token" or "name token"`)
      const [name, token] = parts.length === 2 ? parts : [undefined, parts[0]]
      tokens.push({ token, id: name ?? tokenFingerprint(token) })
    }
  }
  return tokens
}

export function parseConfig (argv: string[], env: NodeJS.ProcessEnv): ServerConfig {
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        transport: { type: 'string' },
        host: { type: 'string' },
        port: { type: 'string' },
        tools: { type: 'string' },
        'no-auth': { type: 'boolean' },
        sse: { type: 'boolean' },
        'no-sse': { type: 'boolean' },
        'log-level': { type: 'string' }
      },
      strict: true
    })
  } catch (error) {
    throw new ConfigError(`${(error as Error).message}\n\n${USAGE}`)
  }
  const values = parsed.values
  const transport = values.transport ?? env.MCP_TRANSPORT ?? 'http'
  if (transport !== 'http' && transport !== 'stdio') {
    throw new ConfigError(`--transport must be "http" or "stdio", got "${transport}"`)
  }
  if (values.sse === true && values['no-sse'] === true) throw new ConfigError('--sse and --no-sse contradict each other: pick one')
  const sse = values['no-sse'] === true ? false : values.sse ?? flag(env.MCP_SSE, 'MCP_SSE') ?? true
  return {
    transport,
    host: values.host ?? env.HOST ?? '127.0.0.1',
    port: integer('--port / PORT', values.port ?? env.PORT, 3100, 0, 65535),
    tokens: loadTokens(env),
    noAuth: values['no-auth'] === true,
    toolsModule: values.tools ?? (env.MCP_TOOLS === '' ? undefined : env.MCP_TOOLS),
    sse,
    sseMaxSessions: integer('MCP_SSE_MAX_SESSIONS', env.MCP_SSE_MAX_SESSIONS, 50, 1, 100_000),
    sseIdleTimeoutMs: integer('MCP_SSE_IDLE_TIMEOUT_MS', env.MCP_SSE_IDLE_TIMEOUT_MS, 30 * 60_000, 1, 7 * 24 * 3_600_000),
    shutdownGraceMs: integer('MCP_SHUTDOWN_GRACE_MS', env.MCP_SHUTDOWN_GRACE_MS, 10_000, 0, 600_000),
    logLevel: values['log-level'] ?? env.LOG_LEVEL ?? 'info'
  }
}

export function isLoopback (host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
}
