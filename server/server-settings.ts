import type { Static } from 'typebox'
import * as Type from '../plugin/protocol/typebox-runtime.js'
import { LogLevel } from '../plugin/options.js'

/**
 * What only `node server` has, beside the plugin options: how to listen, where its tools come from, how to log and
 * drain. Like the plugin's options, one schema is the type, the defaults and the check. Tokens are read apart
 * (server/tokens.ts): they come from a variable and a file, and are never echoed.
 */
export const ServerSettingsSchema = Type.Object({
  /** Serve over HTTP, or over stdin/stdout. */
  transport: Type.Union([Type.Literal('http'), Type.Literal('stdio')], { default: 'http' }),
  /** Address to listen on. */
  host: Type.String({ minLength: 1, default: '127.0.0.1' }),
  /** Port to listen on; 0 picks a free one. */
  port: Type.Integer({ minimum: 0, maximum: 65535, default: 3100 }),
  /** Serve HTTP without auth, on purpose. */
  noAuth: Type.Boolean({ default: false }),
  /** ES module of tools (and resources, prompts); the built-in tools when unset. */
  toolsModule: Type.Optional(Type.String({ minLength: 1 })),
  logLevel: Type.Union([LogLevel], { default: 'info' }),
  /** On SIGTERM/SIGINT, how long calls in flight may take to finish (ms). */
  shutdownGraceMs: Type.Integer({ minimum: 0, maximum: 600_000, default: 8_000 }),
  /** How long a request (headers and body) may take to arrive (ms); 0 for no limit. Responses are not limited. */
  requestTimeoutMs: Type.Integer({ minimum: 0, maximum: 3_600_000, default: 30_000 }),
  /** How long a request's headers may take to arrive (ms), at most the request timeout; 0 for no limit. */
  headersTimeoutMs: Type.Integer({ minimum: 0, maximum: 3_600_000, default: 10_000 }),
  /** How long an idle keep-alive connection stays open (ms). Above a load balancer's idle timeout (60 s for most). */
  keepAliveTimeoutMs: Type.Integer({ minimum: 1, maximum: 3_600_000, default: 72_000 }),
  /** Open connections at most, all clients together; one more gets 503. Keep it below the process's file limit. */
  maxConnections: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1_000 }),
  /** Open connections one client address may hold; one more gets 429. 0 for no limit (behind a proxy). */
  maxConnectionsPerAddress: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 200 }),
  /**
   * OAuth resource server (docs/oauth.md): the authorization server's issuer, this server's URI, and the rest.
   * Read as text here; server/oauth-settings.ts checks them together and makes the plugin's `auth.oauth`.
   */
  oauthIssuer: Type.Optional(Type.String({ minLength: 1 })),
  resourceUrl: Type.Optional(Type.String({ minLength: 1 })),
  oauthScopes: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  oauthAudience: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  oauthScopeImplications: Type.Optional(Type.String({ minLength: 1 })),
  oauthIntrospectionUrl: Type.Optional(Type.String({ minLength: 1 })),
  oauthClientId: Type.Optional(Type.String({ minLength: 1 })),
  oauthClientSecret: Type.Optional(Type.String({ minLength: 1 })),
  /** Serve Prometheus metrics on this port (a listener of its own, never the MCP port); off when unset. */
  metricsPort: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
  /** Address of the metrics listener: loopback unless an operator opens it on purpose. */
  metricsHost: Type.String({ minLength: 1, default: '127.0.0.1' }),
  /** OTLP endpoints (the OpenTelemetry SDK's own variables): either turns tracing on, exported over OTLP/HTTP. */
  otlpEndpoint: Type.Optional(Type.String({ minLength: 1 })),
  otlpTracesEndpoint: Type.Optional(Type.String({ minLength: 1 }))
}, { additionalProperties: false })

export type ServerSettings = Static<typeof ServerSettingsSchema>
