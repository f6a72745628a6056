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
import type { OperationScopes } from './operation-scopes.js'

/** The scopes each operation declares, collected again whenever the definitions change. */
async function watchOperationScopes (definitions: LiveDefinitions): Promise<{ current: () => OperationScopes }> {
  const { collectOperationScopes } = await import('./operation-scopes.js')
  const collect = (): OperationScopes => {
    const { tools, resources, prompts } = definitions.current()
    return collectOperationScopes(tools, resources, prompts)
  }
  let operations = collect()
  definitions.onChange(() => { operations = collect() })
  return { current: () => operations }
}

export interface AccessChecks {
  /** The credentials check; undefined with `auth: false`. */
  bearerAuth: AuthCheck | undefined
  /** Per-operation scopes; undefined when no definition declares any. */
  scopeGuard: ScopeGuard | undefined
}

/** What the server offers right now; it changes when definitions are added or removed at run time. */
export interface LiveDefinitions {
  current: () => { tools: readonly AnyTool[], resources: readonly AnyResource[], prompts: readonly AnyPrompt[] }
  /** Calls `listener` after each change of the lists. */
  onChange: (listener: () => void) => void
}

export interface AccessContext {
  auth: AuthOption
  definitions: LiveDefinitions
  prefix: string | undefined
  config: McpConfig
  /** Told of every refusal (the refusal counter); undefined when off. */
  telemetry?: McpTelemetry
  loggers?: RequestLoggers
}

/**
 * Builds what guards the MCP routes. The OAuth resource server is imported only with `auth.oauth`; the scope guard
 * only when callers can carry scopes at all (OAuth, or a verify function), since static tokens are never restricted
 * by scopes. The guard reads the definitions as they are now: tools added at run time (bridged routes among them)
 * are guarded by their scopes like the others.
 */
export async function createAccessChecks (app: FastifyInstance, context: AccessContext): Promise<AccessChecks> {
  const { auth, definitions, config } = context
  const carriesScopes = auth !== false && (auth.oauth !== undefined || auth.verify !== undefined)
  const operations = carriesScopes ? await watchOperationScopes(definitions) : undefined
  let authority: TokenAuthority | undefined
  if (auth !== false && auth.oauth !== undefined) {
    const { installOAuth } = await import('./oauth/install-oauth.js')
    const prefix = context.prefix ?? ''
    authority = installOAuth(app, auth.oauth, {
      operationScopes: () => operations?.current().all ?? [],
      serverName: config.serverInfo.title ?? config.serverInfo.name,
      endpointPaths: config.routes.streamableHttp ? [`${prefix}/mcp`] : [`${prefix}/sse`]
    })
  }
  const scopeGuard = operations === undefined ? undefined : (await import('./scope-guard.js')).createScopeGuard(operations.current, authority, context.telemetry)
  return {
    bearerAuth: auth === false ? undefined : createBearerAuth(auth, config.authFailureLogLevel, authority, context.telemetry, context.loggers),
    scopeGuard
  }
}
