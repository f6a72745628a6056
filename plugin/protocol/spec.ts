/**
 * The MCP schema types we build on, taken from the SDK's copy of the spec schema (types only: nothing here
 * loads at run time).
 */
export type {
  Annotations,
  BlobResourceContents,
  CallToolResult,
  CompleteResult,
  CreateMessageRequestParams,
  CreateMessageResult,
  ElicitRequestParams,
  ElicitResult,
  GetPromptResult,
  Prompt,
  PromptArgument,
  PromptMessage,
  ReadResourceResult,
  Resource,
  ResourceTemplate,
  TextResourceContents,
  ClientCapabilities,
  ContentBlock,
  Implementation,
  LoggingLevel,
  ServerCapabilities,
  Tool,
  ToolAnnotations
} from '@modelcontextprotocol/sdk/spec.types.js'

/** The lists whose changes clients can be told about (`notifications/<kind>/list_changed`). */
export type ListKind = 'tools' | 'prompts' | 'resources'
