/**
 * The transport-independent half of the package: definitions, the dispatcher and their types. Nothing reachable
 * from here imports Fastify, so the stdio entry can load it alone.
 */
export { defineTool } from './tools/tool-definition.js'
export type { ToolDefinition, AnyTool, ToolReturn } from './tools/tool-definition.js'
export { createDispatcher } from './protocol/dispatcher.js'
export type { Dispatcher, McpServerDefinition } from './protocol/dispatcher.js'
export type { HandlerContext } from './protocol/handler-context.js'
export type { AuthIdentity, TransportName } from './protocol/identity.js'
export type { Logger } from './protocol/logger.js'
export { JsonRpcError, ErrorCode } from './protocol/jsonrpc.js'
export { McpConfigError } from './errors.js'
export { PACKAGE_NAME, PACKAGE_VERSION } from './version.js'
