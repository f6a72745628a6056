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
