import type { Static } from 'typebox'
import * as Type from './protocol/typebox-runtime.js'
import { interpretSchema } from './protocol/schema-check.js'
import type { FastifyRequest } from 'fastify'
import type { Redis } from 'ioredis'
import type { AuthIdentity } from './protocol/identity.js'
import type { AnyTool } from './tools/tool-definition.js'
import type { AnyResource } from './resources/resource-definition.js'
import type { AnyPrompt } from './prompts/prompt-definition.js'
import type { OAuthOptions } from './auth/oauth/oauth-options.js'
import { configErrors } from './errors.js'
import { PACKAGE_NAME, PACKAGE_VERSION } from './version.js'

/** The longest delay Node's timers keep (2^31 - 1 ms, about 24.8 days); a longer one fires at once. */
const MAX_TIMER_MS = 2_147_483_647

/** `host` or `host:port`, a name or a bracketed IPv6 address: what a `Host` header holds. */
const HOST_PATTERN = '^(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9._-]+)(:[0-9]{1,5})?$'
/** `*`, or an origin as browsers send it: scheme, host and optional port, no path. */
const ORIGIN_PATTERN = '^(\\*|https?://(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9._-]+)(:[0-9]{1,5})?/?)$'

/** pino's levels, for the log options here and in `node server`. */
export const LogLevel = Type.Union([
  Type.Literal('fatal'), Type.Literal('error'), Type.Literal('warn'), Type.Literal('info'),
  Type.Literal('debug'), Type.Literal('trace'), Type.Literal('silent')
])

/** The data part of the options: one schema that is the type, the defaults and the runtime check. */
export const McpConfigSchema = Type.Object({
  /** Name and version the server reports to clients. Default: this package's. */
  serverInfo: Type.Object({
    name: Type.String({ minLength: 1 }),
    version: Type.String({ minLength: 1 }),
    title: Type.Optional(Type.String())
  }, { default: { name: PACKAGE_NAME, version: PACKAGE_VERSION } }),
  /** Told to clients on initialize: how to use this server. */
  instructions: Type.Optional(Type.String()),
  /** Per-call timeout for handlers (ms). The call ends as a tool error and `ctx.signal` fires. 0 turns it off. */
  toolTimeoutMs: Type.Integer({ minimum: 0, maximum: MAX_TIMER_MS, default: 300_000 }),
  /** Which route groups to add. */
  routes: Type.Object({
    /** `POST /mcp` (Streamable HTTP). */
    streamableHttp: Type.Boolean({ default: true }),
    /** `GET /sse` + `POST /messages` (legacy HTTP+SSE, for n8n and older clients). */
    sse: Type.Boolean({ default: true }),
    /** `GET /health` and `GET /health/sse`, without auth, for load balancers. */
    health: Type.Boolean({ default: true })
  }, { default: {} }),
  /** Legacy HTTP+SSE sessions. */
  sse: Type.Object({
    /** Open streams at most; one more gets 503 with Retry-After. */
    maxSessions: Type.Integer({ minimum: 1, default: 50 }),
    /** A session with no message in or out for this long is closed (ms). */
    idleTimeoutMs: Type.Integer({ minimum: 1, maximum: MAX_TIMER_MS, default: 30 * 60_000 }),
    /** Interval of `: keep-alive` comments that stop proxies closing idle streams (ms); 0 turns them off. */
    keepAliveMs: Type.Integer({ minimum: 0, maximum: MAX_TIMER_MS, default: 15_000 }),
    /** A client that stops reading is disconnected once this many bytes wait for it. */
    maxBufferedBytes: Type.Integer({ minimum: 1024, default: 4 * 1024 * 1024 }),
    /**
     * Requests one session may have running at once; one more POST gets 429 with Retry-After and a JSON-RPC error
     * (answers, notifications and cancellations always pass). Raise it for clients that pipeline many slow calls.
     */
    maxInFlight: Type.Integer({ minimum: 1, default: 32 })
  }, { default: {} }),
  /**
   * Resource subscriptions one session (legacy SSE, stateful HTTP) may hold; one more `resources/subscribe` is refused
   * (429 on stateful HTTP) with a JSON-RPC error.
   */
  maxSubscriptionsPerSession: Type.Integer({ minimum: 1, default: 100 }),
  /**
   * Streamable HTTP (`/mcp`). Stateless by default: every POST stands alone, so any instance can answer any
   * request. Protocol sessions are opt-in.
   */
  streamable: Type.Object({
    /**
     * Protocol sessions (spec 2025-11-25): `initialize` issues an `Mcp-Session-Id`, `GET /mcp` opens the
     * session's server-to-client stream, `DELETE /mcp` ends it, and streams can be resumed with `Last-Event-ID`.
     * Sessions live in this process unless cluster mode is on (`cluster`), which shares them between replicas. Default false.
     */
    sessions: Type.Boolean({ default: false }),
    /** Open sessions at most; one more `initialize` gets 503 with Retry-After. */
    maxSessions: Type.Integer({ minimum: 1, default: 100 }),
    /**
     * A session with no message in or out for this long is ended and its running requests aborted (ms). Clients
     * rarely send DELETE: this is what frees their memory. A request still running counts as activity.
     */
    idleTimeoutMs: Type.Integer({ minimum: 1, maximum: MAX_TIMER_MS, default: 30 * 60_000 }),
    /** Interval of `: keep-alive` comments on open event streams, so proxies keep them open (ms); 0 turns them off. */
    keepAliveMs: Type.Integer({ minimum: 0, maximum: MAX_TIMER_MS, default: 15_000 }),
    /** A client that stops reading an event stream is disconnected once this many bytes wait for it. */
    maxBufferedBytes: Type.Integer({ minimum: 1024, default: 4 * 1024 * 1024 }),
    /**
     * Requests one stateful session may have running in this process at once; one more gets 429 with Retry-After
     * and a JSON-RPC error (answers, notifications and cancellations always pass).
     */
    maxInFlight: Type.Integer({ minimum: 1, default: 32 }),
    /**
     * A caller at `maxSessionsPerIdentity` that starts another session evicts its least recently used one idle for
     * this long, with no call running and no stream open (ms); sessions active more recently are never evicted.
     */
    evictIdleAfterMs: Type.Integer({ minimum: 0, default: 60_000 }),
    /** Open 2026-07-28 `subscriptions/listen` streams in this process at most; one more gets 503 with Retry-After. */
    maxListenStreams: Type.Integer({ minimum: 1, default: 50 }),
    /** The `retry:` hint on session streams: how long a client waits before it reconnects (ms). */
    retryMs: Type.Integer({ minimum: 0, default: 1000 }),
    /**
     * What each session keeps for clients that reconnect with `Last-Event-ID`; the oldest events go first. Raise
     * it when clients on flaky networks miss answers; 0 events keeps nothing (streams cannot be resumed).
     */
    eventStore: Type.Object({
      /** Events kept per session. */
      maxEvents: Type.Integer({ minimum: 0, default: 100 }),
      /** Bytes of messages kept per session; a larger message is delivered live but not kept. */
      maxBytes: Type.Integer({ minimum: 0, default: 1024 * 1024 })
    }, { default: {} })
  }, { default: {} }),
  /**
   * Host names (or host:port) the MCP routes answer to, against DNS rebinding. Default: loopback names when the
   * server is bound to a loopback address, any host otherwise. Set it when a proxy forwards a public name.
   */
  allowedHosts: Type.Optional(Type.Array(Type.String({ pattern: HOST_PATTERN }), { minItems: 1 })),
  /**
   * Origins (`https://app.example.com`) browsers may call the MCP routes from; `*` allows any. Requests without
   * an Origin (non-browser clients) always pass. Default: loopback origins when bound to loopback, none otherwise.
   */
  allowedOrigins: Type.Optional(Type.Array(Type.String({ pattern: ORIGIN_PATTERN }), { minItems: 1 })),
  /**
   * Largest request body the MCP routes accept (bytes); a larger one gets 413 with a JSON-RPC error before it is
   * read in full. Default: the Fastify instance's `bodyLimit` (1 MiB unless the app changed it).
   */
  bodyLimit: Type.Optional(Type.Integer({ minimum: 1 })),
  /**
   * Sessions and streams (legacy SSE, stateful Streamable HTTP, 2026 listen streams) that one caller may hold; a
   * caller is its identity, or its client address with `auth: false`. At the cap, a new stateful session takes the
   * place of the caller's least recently used one that has been idle for a minute (no call running, no stream open);
   * otherwise it gets 429 with Retry-After. Default: half the smallest of the transports' `maxSessions` (25), so
   * that one caller never fills the server.
   */
  maxSessionsPerIdentity: Type.Optional(Type.Integer({ minimum: 1 })),
  /**
   * Rate limits on the MCP routes, per caller (its identity, or its client address with `auth: false`): requests of
   * any kind per window, and `tools/call` of named tools per window. One more gets 429 with Retry-After and a
   * JSON-RPC error; other callers are not affected. In cluster mode the counters are kept in Redis, so a caller has
   * one budget across the replicas. Off by default (the routes get no hook at all).
   */
  rateLimit: Type.Optional(Type.Object({
    /** Requests one caller may send per window, on every MCP route together. Default: no limit on requests as a whole. */
    max: Type.Optional(Type.Integer({ minimum: 1 })),
    /** The window (ms), for `max` and for `tools`. */
    timeWindowMs: Type.Integer({ minimum: 1000, maximum: MAX_TIMER_MS, default: 60_000 }),
    /** Calls of a tool one caller may make per window, e.g. `[{ name: 'deploy', max: 5 }]`. */
    tools: Type.Array(Type.Object({
      name: Type.String({ minLength: 1 }),
      max: Type.Integer({ minimum: 1 })
    }, { additionalProperties: false }), { default: [] })
  }, { additionalProperties: false })),
  /**
   * Secret that signs the `requestState` of 2026-07-28 requests that need client input over several rounds.
   * Default: random per process, right for one instance; behind a load balancer give every instance the same one.
   */
  requestStateSecret: Type.Optional(Type.String({ minLength: 16 })),
  /** Level at which refused credentials are logged, with the reason and the client's address. */
  authFailureLogLevel: Type.Union([LogLevel], { default: 'warn' }),
  /**
   * Cluster mode: several replicas behind a plain load balancer share sessions, streams and server-to-client
   * requests through Redis (or Valkey), so any request of a client may reach any replica. Off without `redisUrl`
   * (or the `redis` client option). Every replica needs the same settings, and the same `requestStateSecret`.
   */
  cluster: Type.Object({
    /** `redis://[user:password@]host:port/db`, or `rediss://…` for TLS; user, password and TLS reach every connection. */
    redisUrl: Type.Optional(Type.String({ minLength: 1 })),
    /** Prefix of every key and channel: give each host sharing one Redis its own. */
    keyPrefix: Type.String({ minLength: 1, maxLength: 64, default: 'mcp:' }),
    /** A replica that stops beating for this long is dead: its SSE sessions get 404, its running calls are lost (ms). */
    livenessMs: Type.Integer({ minimum: 1000, default: 15_000 }),
    /** How long a message relayed to the replica holding an SSE stream may wait for its verdict (ms). */
    relayTimeoutMs: Type.Integer({ minimum: 100, default: 5_000 })
  }, { default: {} }),
  /** What the host tells operators: log lines, spans, metrics (docs/observability.md). */
  telemetry: Type.Object({
    /**
     * One `info` line per MCP message on the MCP routes (method, tool, caller, outcome, duration), in place of
     * Fastify's two request lines there; the app's own routes keep Fastify's. False keeps Fastify's lines instead.
     */
    logCalls: Type.Boolean({ default: true }),
    /**
     * OpenTelemetry spans per MCP request, by the MCP semantic conventions: `auto` makes them when the app has
     * registered a tracer provider (and `@opentelemetry/api` is installed) before registering this plugin; false
     * never does. Nothing is loaded without a provider.
     */
    tracing: Type.Union([Type.Literal('auto'), Type.Literal(false)], { default: 'auto' }),
    /**
     * Prometheus metrics (needs `prom-client`): a registry of the host's MCP series on `fastify.mcp.metrics`, for
     * the app to serve or merge into its own. Off by default.
     */
    metrics: Type.Boolean({ default: false })
  }, { default: {}, additionalProperties: false }),
  /** The route bridge: routes marked `config: { mcp: true }` served as tools (docs/route-bridge.md). */
  bridge: Type.Object({
    /**
     * Headers copied from the MCP request onto every bridged call, by name (e.g. `accept-language`,
     * `traceparent`). Never credentials (`authorization`, `cookie`): routes read the caller from
     * `request.mcpBridge`. Default none.
     */
    forwardHeaders: Type.Array(Type.String({ minLength: 1 }), { default: [] })
  }, { default: {}, additionalProperties: false })
}, { additionalProperties: false })

export type McpConfig = Static<typeof McpConfigSchema>

/** Checks a bearer token and says who it belongs to; null refuses the request. Runs before the body is read. */
export type VerifyToken = (token: string, request: FastifyRequest) => AuthIdentity | null | Promise<AuthIdentity | null>

/** A token with the identity it stands for; several tokens may share one (rotation). */
export interface NamedToken {
  token: string
  id: string
}

interface AuthMethodFields {
  /** Static tokens: strings, or `{ token, id }` to name identities (several tokens may share an id). */
  tokens?: ReadonlyArray<string | NamedToken>
  /** Your own check of a token. */
  verify?: VerifyToken
  /** Access tokens from an OAuth 2.1 authorization server, with per-tool scopes (docs/oauth.md). */
  oauth?: OAuthOptions
}

/**
 * Ways a bearer token may be accepted, at least one, any combination of them (a CI bot on a static token, people
 * through the identity provider): the static tokens are matched first, then the verify function is asked, then OAuth.
 */
export type AuthMethods = AuthMethodFields & (
  | { tokens: ReadonlyArray<string | NamedToken> }
  | { verify: VerifyToken }
  | { oauth: OAuthOptions }
)

export type AuthOption = false | AuthMethods

type StreamableConfig = McpConfig['streamable']

export interface McpPluginOptions extends Partial<Omit<McpConfig, 'routes' | 'sse' | 'streamable' | 'cluster' | 'bridge' | 'telemetry' | 'rateLimit'>> {
  /** Bearer auth for the MCP routes, required: tokens, a verify function, or `false` to serve without auth. */
  auth: AuthOption
  /** The tools to serve (see `defineTool`). */
  tools?: readonly AnyTool[]
  /** Resources and resource templates to serve (see `defineResource`). */
  resources?: readonly AnyResource[]
  /** Prompts to serve (see `definePrompt`). */
  prompts?: readonly AnyPrompt[]
  routes?: Partial<McpConfig['routes']>
  sse?: Partial<McpConfig['sse']>
  streamable?: Partial<Omit<StreamableConfig, 'eventStore'>> & { eventStore?: Partial<StreamableConfig['eventStore']> }
  cluster?: Partial<McpConfig['cluster']>
  /**
   * Cluster mode on a Redis client the host application already has (ioredis, e.g. `fastify.redis`), instead of
   * `cluster.redisUrl`: it is duplicated with all its settings; the host keeps closing its own client.
   */
  redis?: Redis
  bridge?: Partial<McpConfig['bridge']>
  telemetry?: Partial<McpConfig['telemetry']>
  rateLimit?: Partial<NonNullable<McpConfig['rateLimit']>>
}

export interface ResolvedOptions {
  config: McpConfig
  redis: Redis | undefined
  auth: AuthOption
  tools: readonly AnyTool[]
  resources: readonly AnyResource[]
  prompts: readonly AnyPrompt[]
}

/**
 * The options are checked once per register (and by `node server` for its rows, server/config-schema.ts): by the
 * interpreter, since compiling this schema cost more start-up time than any check saves.
 */
export const checkConfig = interpretSchema(McpConfigSchema)

function checkTokens (tokens: unknown): void {
  if (!Array.isArray(tokens)) throw configErrors.invalidOptions('auth.tokens must be an array of tokens (strings or { token, id })')
  if (tokens.length === 0) throw configErrors.invalidOptions('auth.tokens is empty: give at least one token, or auth: false to serve without auth')
  for (const [index, entry] of tokens.entries()) {
    const token: unknown = typeof entry === 'string' ? entry : entry?.token
    if (typeof token !== 'string' || token.length === 0) {
      throw configErrors.invalidOptions(`auth.tokens[${index}] must be a non-empty string or { token, id }`)
    }
    if (typeof entry !== 'string' && (typeof entry.id !== 'string' || entry.id === '')) {
      throw configErrors.invalidOptions(`auth.tokens[${index}].id must be a non-empty string naming the identity`)
    }
  }
}

/** The shape of `auth`; `auth.oauth` is checked in full where the OAuth code is loaded (only when it is set). */
function checkAuth (auth: unknown): AuthOption {
  if (auth === undefined) throw configErrors.authRequired()
  if (auth === false) return false
  if (typeof auth !== 'object' || auth === null) throw configErrors.authRequired()
  const { tokens, verify, oauth } = auth as Record<string, unknown>
  if (tokens === undefined && verify === undefined && oauth === undefined) throw configErrors.authRequired()
  if (tokens !== undefined) checkTokens(tokens)
  if (verify !== undefined && typeof verify !== 'function') throw configErrors.invalidOptions('auth.verify must be a function (token, request) => identity | null')
  if (oauth !== undefined && (typeof oauth !== 'object' || oauth === null)) {
    throw configErrors.invalidOptions('auth.oauth must be an object: { issuer, resource, ... } (see docs/oauth.md)')
  }
  return auth as AuthOption
}

/** Checks the caller's options and fills defaults, without touching the caller's object. */
export function resolveOptions (options: McpPluginOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw configErrors.authRequired()
  // prefix, logLevel and logSerializers are Fastify's own register options, not ours.
  const { auth, tools = [], resources = [], prompts = [], redis, prefix, logLevel, logSerializers, ...data } = options as McpPluginOptions & Record<string, unknown>
  for (const [name, list, helper] of [['tools', tools, 'defineTool'], ['resources', resources, 'defineResource'], ['prompts', prompts, 'definePrompt']] as const) {
    if (!Array.isArray(list)) throw configErrors.invalidOptions(`${name} must be an array (see ${helper})`)
  }
  const checked = checkConfig.check(data)
  if (!checked.ok) throw configErrors.invalidOptions(checked.problems)
  if (redis !== undefined && (typeof redis !== 'object' || redis === null || typeof (redis as { duplicate?: unknown }).duplicate !== 'function')) {
    throw configErrors.invalidOptions('redis must be an ioredis client (or leave it out and set cluster.redisUrl)')
  }
  const config = checked.value as McpConfig
  if ((config.cluster.redisUrl !== undefined || redis !== undefined) && config.requestStateSecret === undefined) {
    throw configErrors.invalidOptions('cluster mode needs requestStateSecret (MCP_REQUEST_STATE_SECRET for node server): the same secret of 16+ characters ' +
      'on every replica, so that a 2026-07-28 request needing client input can continue on any replica')
  }
  return { config, redis: redis as Redis | undefined, auth: checkAuth(auth), tools, resources, prompts }
}
