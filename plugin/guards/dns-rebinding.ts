import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { ErrorCode, failure, quoteValue } from '../protocol/jsonrpc.js'
import { rememberLast } from '../transports/http/remember-last.js'
import type { McpTelemetry } from '../telemetry/telemetry.js'
import { sendEarlyRefusal } from '../transports/http/lingering-close.js'

export interface RebindingGuardOptions {
  /** Host names (or host:port) the MCP routes answer to. Default: loopback names when bound to loopback, else any. */
  allowedHosts?: string[]
  /** Origins (scheme://host[:port]) browsers may call from. Default: loopback origins when bound to loopback, else none. */
  allowedOrigins?: string[]
}

const LOOPBACK_HOSTNAMES = new Set(['localhost', '127.0.0.1', '[::1]', '::1'])

function isLoopbackHostname (hostname: string): boolean {
  return LOOPBACK_HOSTNAMES.has(hostname) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname) || hostname.endsWith('.localhost')
}

/** `example.com:3100` → `example.com`; `[::1]:3100` → `[::1]`. */
export function hostnameOf (host: string): string {
  const lower = host.toLowerCase()
  if (lower.startsWith('[')) return lower.slice(0, lower.indexOf(']') + 1)
  const colon = lower.lastIndexOf(':')
  return colon === -1 ? lower : lower.slice(0, colon)
}

function originHostname (origin: string): string | undefined {
  try {
    return new URL(origin).hostname.toLowerCase()
  } catch {
    return undefined
  }
}

function isBoundToLoopback (app: FastifyInstance): boolean {
  const address = app.server.address()
  if (address === null || typeof address === 'string') return false
  return address.address === '::1' || address.address.startsWith('127.')
}

/** Whether a request may go on; when not, the guard has already sent the 403. */
export type RequestGuard = (request: FastifyRequest, reply: FastifyReply) => boolean

/**
 * Refuses requests whose Host or Origin could come from a DNS-rebinding page (the spec's MUST): a browser
 * tricked into calling a local server sends the attacker's host name. Requests without Origin (non-browser
 * clients) pass the Origin check.
 */
export function createRebindingGuard (app: FastifyInstance, options: RebindingGuardOptions, telemetry?: McpTelemetry): RequestGuard {
  const allowedHosts = options.allowedHosts?.map((host) => host.toLowerCase())
  const allowedOrigins = options.allowedOrigins?.map((origin) => origin.toLowerCase().replace(/\/$/, ''))
  // The bound address cannot change once the server listens: ask the socket once, not on every request. Before
  // listen() (an app.inject warm-up) there is no address yet: nothing is remembered until there is one.
  let boundToLoopback: boolean | undefined
  const loopbackBound = (): boolean => boundToLoopback ?? false

  function checkHost (host: string | undefined): boolean {
    if (host === undefined || host === '') return false
    if (allowedHosts !== undefined) return allowedHosts.includes(host.toLowerCase()) || allowedHosts.includes(hostnameOf(host))
    return !loopbackBound() || isLoopbackHostname(hostnameOf(host))
  }

  // Every request of a client carries the same Host: judge each distinct value once.
  let hostAllowed = rememberLast(checkHost)

  /** Learns the listening address once the server has one, and forgets verdicts given before it was known. */
  function learnAddress (): void {
    if (app.server.address() === null) return
    boundToLoopback = isBoundToLoopback(app)
    hostAllowed = rememberLast(checkHost)
  }

  function originAllowed (origin: string): boolean {
    if (allowedOrigins !== undefined) return allowedOrigins.includes('*') || allowedOrigins.includes(origin.toLowerCase())
    const hostname = originHostname(origin)
    return loopbackBound() && hostname !== undefined && isLoopbackHostname(hostname)
  }

  function refuse (request: FastifyRequest, reply: FastifyReply, what: string, option: string): void {
    const { host, origin } = request.headers
    request.log.warn({ host: host === undefined ? host : quoteValue(host), origin: origin === undefined ? origin : quoteValue(origin), ip: request.ip }, `Refused an MCP request: ${what} not allowed`)
    const message = `Forbidden: ${what} is not allowed on this server (DNS-rebinding protection); the operator can allow it with the ${option} option`
    // Counted only: the warn line above is this refusal's log line.
    telemetry?.refusedQuietly(403, 'forbidden')
    sendEarlyRefusal(request, reply, () => { void reply.code(403).send(failure(null, ErrorCode.ServerError, message)) })
  }

  return function passesRebindingGuard (request, reply) {
    if (boundToLoopback === undefined) learnAddress()
    if (!hostAllowed(request.headers.host)) {
      refuse(request, reply, `Host ${quoteValue(request.headers.host)}`, 'allowedHosts')
      return false
    }
    const origin = request.headers.origin
    if (origin !== undefined && !originAllowed(origin)) {
      refuse(request, reply, `Origin ${quoteValue(origin)}`, 'allowedOrigins')
      return false
    }
    return true
  }
}
