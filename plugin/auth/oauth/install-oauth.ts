import type { FastifyInstance } from 'fastify'
import type { OAuthOptions } from './oauth-options.js'
import { createOAuthResourceServer, type OAuthResourceServer } from './resource-server.js'
import { metadataPaths, serveProtectedResourceMetadata } from './protected-resource-metadata.js'

export interface OAuthInstallContext {
  /** Every scope a tool, resource or prompt declares. */
  operationScopes: () => readonly string[]
  serverName: string
  /** The MCP endpoints as mounted here (register prefix included), for the path-inserted metadata URLs. */
  endpointPaths: readonly string[]
}

/**
 * The entry point of the OAuth code, imported by the plugin only when `auth.oauth` is set: checks the options,
 * publishes the Protected Resource Metadata, and starts discovery and key fetching once the app is ready.
 */
export function installOAuth (app: FastifyInstance, options: OAuthOptions, context: OAuthInstallContext): OAuthResourceServer {
  const server = createOAuthResourceServer(options, { log: app.log, operationScopes: context.operationScopes, serverName: context.serverName })
  serveProtectedResourceMetadata(app, server.metadata, metadataPaths(server.options.resource, context.endpointPaths))
  app.addHook('onReady', async function startOAuth () { server.start() })
  app.addHook('onClose', async function stopOAuth () { server.stop() })
  return server
}
