/** Every error a user can hit when configuring the host, each with a stable code. No Fastify in here. */
export class McpConfigError extends Error {
  readonly code: string

  constructor (code: string, message: string) {
    super(message)
    this.name = 'McpConfigError'
    this.code = code
  }
}

export const configErrors = {
  invalidOptions: (details: string) =>
    new McpConfigError('MCP_ERR_OPTIONS', `Invalid mcpPlugin options: ${details}`),
  authRequired: () =>
    new McpConfigError('MCP_ERR_AUTH_REQUIRED',
      'mcpPlugin needs an explicit "auth" option: { tokens: ["..."] }, { verify: async (token, request) => identity | null }, ' +
      '{ oauth: { issuer, resource } } (any of them together), or false to serve without auth'),
  invalidDefinition: (kind: string, name: string, details: string) =>
    new McpConfigError('MCP_ERR_DEFINITION', `Invalid ${kind} "${name}": ${details}`),
  duplicateDefinition: (kind: string, name: string) =>
    new McpConfigError('MCP_ERR_DUPLICATE', `Two ${kind}s are named "${name}": names must be unique`),
  unbridgeableRoute: (route: string, details: string) =>
    new McpConfigError('MCP_ERR_BRIDGE_ROUTE', `Route ${route} is marked config.mcp but cannot be an MCP tool: ${details}`),
  bridgedNameTaken: (name: string, route: string, other: string) =>
    new McpConfigError('MCP_ERR_BRIDGE_NAME',
      `Route ${route} and ${other} would both be the MCP tool "${name}": give one of them another config.mcp.name (or operationId)`)
}
