import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { ErrorCode, failure, type JsonRpcId } from '../protocol/jsonrpc.js'

/** An HTTP error on an MCP route, carrying the JSON-RPC code its body should have (see @fastify/sensible). */
export interface McpHttpError extends Error {
  statusCode: number
  rpcCode?: number
  rpcId?: JsonRpcId | null
}

const BODY_ERRORS: Record<string, { status: number, code: number, message: (error: FastifyError) => string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: {
    status: 400, code: ErrorCode.ParseError, message: () => 'Parse error: the request body is not valid JSON'
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    status: 400, code: ErrorCode.ParseError, message: () => 'Parse error: the request body is empty; send one JSON-RPC message'
  },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415, code: ErrorCode.ServerError, message: () => 'Unsupported Media Type: send the JSON-RPC message with "Content-Type: application/json"'
  },
  FST_ERR_CTP_BODY_TOO_LARGE: {
    status: 413, code: ErrorCode.ServerError, message: () => 'Payload Too Large: the request body exceeds this server\'s body limit'
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    status: 400, code: ErrorCode.ParseError, message: () => 'Parse error: the Content-Length header does not match the body'
  }
}

/**
 * The error handler of the MCP routes: every refusal travels as a JSON-RPC error envelope with the right HTTP
 * status, including Fastify's own body-parsing errors. Server faults are logged and never leak internals.
 */
export function jsonRpcErrorHandler (error: FastifyError & Partial<McpHttpError>, request: FastifyRequest, reply: FastifyReply): void {
  const body = BODY_ERRORS[error.code]
  if (body !== undefined) {
    request.log.debug({ code: error.code }, 'Refused an MCP request body')
    void reply.code(body.status).send(failure(null, body.code, body.message(error)))
    return
  }
  const status = error.statusCode ?? 500
  if (status >= 500 && error.rpcCode === undefined) {
    request.log.error({ err: error }, 'MCP route failed')
    void reply.code(500).send(failure(null, ErrorCode.InternalError, 'Internal server error: the failure was logged on the server'))
    return
  }
  const code = error.rpcCode ?? (status >= 500 ? ErrorCode.InternalError : ErrorCode.ServerError)
  void reply.code(status).send(failure(error.rpcId ?? null, code, error.message))
}
