import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

/** RFC 9728 §2: what this server tells clients about itself as an OAuth protected resource. */
export interface ProtectedResourceMetadata {
  resource: string
  authorization_servers: string[]
  scopes_supported?: string[]
  bearer_methods_supported: ['header']
  resource_name?: string
  resource_documentation?: string
}

export const WELL_KNOWN = '/.well-known/oauth-protected-resource'

/** The metadata URL of a resource (RFC 9728 §3.1): the well-known segment inserted before the resource's path. */
export function metadataUrlOf (resource: string): string {
  const url = new URL(resource)
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '')
  return `${url.origin}${WELL_KNOWN}${path}`
}

/**
 * The local paths the document is served at: the bare well-known path, the path-inserted form of the resource's
 * own path, and of each MCP endpoint as mounted here (they differ when a proxy rewrites paths).
 */
export function metadataPaths (resource: string, endpointPaths: readonly string[]): string[] {
  const paths = new Set([WELL_KNOWN, new URL(metadataUrlOf(resource)).pathname])
  for (const endpoint of endpointPaths) paths.add(`${WELL_KNOWN}${endpoint}`)
  return [...paths]
}

const CACHE_SECONDS = 3600

/**
 * Serves the document without auth or the rebinding guard (registered outside the MCP routes), readable from any
 * browser origin, cacheable for an hour. An OPTIONS preflight is answered too: browser clients send
 * `MCP-Protocol-Version` with their discovery requests.
 */
export function serveProtectedResourceMetadata (app: FastifyInstance, document: () => ProtectedResourceMetadata, paths: readonly string[]): void {
  function getMetadata (_request: FastifyRequest, reply: FastifyReply): void {
    const body = JSON.stringify(document())
    void reply
      .header('content-type', 'application/json; charset=utf-8')
      .header('cache-control', `public, max-age=${CACHE_SECONDS}`)
      .header('access-control-allow-origin', '*')
      .send(body)
  }
  function preflight (request: FastifyRequest, reply: FastifyReply): void {
    const asked = request.headers['access-control-request-headers']
    void reply
      .code(204)
      .header('access-control-allow-origin', '*')
      .header('access-control-allow-methods', 'GET')
      .header('access-control-allow-headers', typeof asked === 'string' && asked !== '' ? asked : '*')
      .header('access-control-max-age', '86400')
      .send()
  }
  for (const path of paths) {
    app.get(path, getMetadata)
    app.options(path, preflight)
  }
}
