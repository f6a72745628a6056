import type { FastifyInstance } from 'fastify'
import type { AuthOption, McpConfig } from '../options.js'
import type { AnyTool } from '../tools/tool-definition.js'
import type { AnyResource } from '../resources/resource-definition.js'
import type { AnyPrompt } from '../prompts/prompt-definition.js'
import { createBearerAuth, type AuthCheck } from './bearer-auth.js'
import type { ScopeGuard } from './scope-guard.js'
import type { TokenAuthority } from './token-authority.js'
import type { McpTelemetry } from '../telemetry/telemetry.js'
import type { RequestLoggers } from '../transports/http/request-loggers.js'

export interface AccessChecks {
  /** The credentials check; undefined with `auth: false`. */
  bearerAuth: AuthCheck | undefined
  /** Per-operation scopes; undefined when no definition declares any. */
  scopeGuard: ScopeGuard | undefined
}

export interface AccessContext {
  auth: AuthOption
  tools: readonly AnyTool[]
  resources: readonly AnyResource[]
  prompts: readonly AnyPrompt[]
  prefix: string | undefined
  config: McpConfig
  /** Told of every refusal (the refusal counter); undefined when off. */
  telemetry?: McpTelemetry
  loggers?: RequestLoggers
}

/** Does any definition declare scopes? Decides whether the scope guard exists at all. */
function declaresScopes (definitions: ReadonlyArray<{ scopes?: readonly string[] }>): boolean {
  return definitions.some((definition) => definition.scopes !== undefined)
}

/**
 * Builds what guards the MCP routes. The OAuth resource server and the scope guard are imported only when
 * configured (`auth.oauth`, `scopes` on a definition), so static-token users load none of their code.
 */
export async function createAccessChecks (app: FastifyInstance, context: AccessContext): Promise<AccessChecks> {
  const { auth, tools, resources, prompts, config } = context
  const scoped = declaresScopes(tools) || declaresScopes(resources) || declaresScopes(prompts)
  const operations = scoped ? (await import('./operation-scopes.js')).collectOperationScopes(tools, resources, prompts) : undefined
  let authority: TokenAuthority | undefined
  if (auth !== false && auth.oauth !== undefined) {
    const { installOAuth } = await import('./oauth/install-oauth.js')
    const prefix = context.prefix ?? ''
    authority = installOAuth(app, auth.oauth, {
      operationScopes: operations?.all ?? [],
      serverName: config.serverInfo.title ?? config.serverInfo.name,
      endpointPaths: config.routes.streamableHttp ? [`${prefix}/mcp`] : [`${prefix}/sse`]
    })
  }
  const scopeGuard = operations === undefined ? undefined : (await import('./scope-guard.js')).createScopeGuard(operations, authority, context.telemetry)
  return {
    bearerAuth: auth === false ? undefined : createBearerAuth(auth, config.authFailureLogLevel, authority, context.telemetry, context.loggers),
    scopeGuard
  }
}
