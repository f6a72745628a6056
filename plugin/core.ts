/**
 * The transport-independent half of the package: definitions, the dispatcher and their types. Nothing reachable
 * from here imports Fastify, so the stdio entry can load it alone.
 */
export { defineTool } from './tools/tool-definition.js'
export type { ToolDefinition, AnyTool, ToolReturn } from './tools/tool-definition.js'
export { defineResource } from './resources/resource-definition.js'
export type {
  StaticResourceDefinition, ResourceTemplateDefinition, AnyResource, ResourceReturn, ResourceContent
} from './resources/resource-definition.js'
export { definePrompt } from './prompts/prompt-definition.js'
export type { PromptDefinition, AnyPrompt, PromptReturn } from './prompts/prompt-definition.js'
export type { Completer } from './completions/completer.js'
export type { InputRequests, InputResponses } from './protocol/input-requests.js'
export { createDispatcher } from './dispatch/dispatcher.js'
export type { Dispatcher, McpServerDefinition } from './dispatch/dispatcher.js'
export type { HandlerContext, InputOptions } from './protocol/handler-context.js'
export type { AuthIdentity, TransportName } from './protocol/identity.js'
export type { Logger } from './protocol/logger.js'
export { JsonRpcError, ErrorCode } from './protocol/jsonrpc.js'
export { McpConfigError } from './errors.js'
export { PACKAGE_NAME, PACKAGE_VERSION } from './version.js'
