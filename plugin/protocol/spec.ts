/**
 * The MCP schema types we build on, taken from the SDK's copy of the spec schema (types only: nothing here
 * loads at run time).
 */
export type {
  CallToolResult,
  ClientCapabilities,
  ContentBlock,
  Implementation,
  LoggingLevel,
  ServerCapabilities,
  Tool,
  ToolAnnotations
} from '@modelcontextprotocol/sdk/spec.types.js'
