import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { ErrorCode, failure } from '../../protocol/jsonrpc.js'
import type { McpTelemetry } from '../../telemetry/telemetry.js'
import { HttpRefusal, refusals } from './refusals.js'
import { closeGentlyAfterRefusal } from './lingering-close.js'

/** Fastify's own body errors, as the refusals the MCP routes send for them. */
const BODY_ERRORS: Record<string, () => HttpRefusal> = {
  FST_ERR_CTP_INVALID_JSON_BODY: refusals.bodyNotJson,
  FST_ERR_CTP_EMPTY_JSON_BODY: refusals.bodyEmpty,
  FST_ERR_CTP_INVALID_MEDIA_TYPE: refusals.unsupportedMediaType,
  FST_ERR_CTP_BODY_TOO_LARGE: refusals.bodyTooLarge,
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: refusals.badContentLength
}

function send (reply: FastifyReply, refusal: HttpRefusal): void {
  if (refusal.headers !== undefined) reply.headers(refusal.headers)
  void reply.code(refusal.statusCode).send(failure(refusal.rpcId, refusal.rpcCode, refusal.message))
}

/**
 * The error handler of the MCP routes: every refusal travels as a JSON-RPC error envelope with the right HTTP
 * status, including Fastify's own body-parsing errors, and is told to telemetry (a log line, the refusal counter).
 * Anything else is a server fault: logged, and answered 500 without internals.
 */
export function createJsonRpcErrorHandler (telemetry: McpTelemetry | undefined) {
  function refuse (request: FastifyRequest, reply: FastifyReply, refusal: HttpRefusal): void {
    telemetry?.refused(request, refusal.statusCode, refusal.rpcCode, refusal.message, refusal.reason)
    send(reply, refusal)
  }

  return function jsonRpcErrorHandler (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
    // Refused before its body arrived (a Content-Length over the limit): let the client read the refusal.
    closeGentlyAfterRefusal(request, reply)
    if (error instanceof HttpRefusal) return refuse(request, reply, error)
    const bodyError = BODY_ERRORS[error.code]
    if (bodyError !== undefined) return refuse(request, reply, bodyError())
    const status = error.statusCode ?? 500
    if (status < 500) {
      // Another Fastify client error (a malformed URL, say): its status, in the routes' envelope.
      telemetry?.refused(request, status, ErrorCode.ServerError, error.message)
      void reply.code(status).send(failure(null, ErrorCode.ServerError, error.message))
      return
    }
    request.log.error({ err: error }, 'MCP route failed')
    void reply.code(500).send(failure(null, ErrorCode.InternalError, 'Internal server error: the failure was logged on the server'))
  }
}
