import type { JsonRpcRequest, JsonRpcResponse } from '../protocol/jsonrpc.js'
import type { CallEnv } from '../protocol/call-env.js'
import type { Logger } from '../protocol/logger.js'
import { cutShort } from '../protocol/jsonrpc.js'
import type { CallObserver } from '../dispatch/call-observer.js'
import { outcomeOf, targetOf } from './call-outcome.js'

/** Milliseconds with microseconds kept, as a short number. */
function elapsedMs (startedAt: number): number {
  return Math.round((performance.now() - startedAt) * 1000) / 1000
}

/**
 * The fields of the line a call writes when it ends: method, tool/prompt/resource, caller, session, era,
 * transport, outcome (with the JSON-RPC error code), duration, and the HTTP request id. Never a token, arguments or
 * results: identities are names, and URIs lose their query strings.
 */
export function callLine (request: JsonRpcRequest, env: CallEnv, response: JsonRpcResponse | undefined, durationMs: number, idLabel: string): Record<string, unknown> {
  const line: Record<string, unknown> = {}
  if (env.http !== undefined) line[idLabel] = env.http.id
  line.method = request.method
  const target = targetOf(request)
  if (target !== undefined) line[target.kind] = target.name
  line.rpcId = typeof request.id === 'string' ? cutShort(request.id) : request.id
  if (env.auth !== undefined) line.identity = env.auth.id
  if (env.session !== undefined) line.sessionId = env.session.id
  line.era = env.modern !== undefined ? '2026-07-28' : '2025'
  line.transport = env.transport
  const outcome = outcomeOf(response)
  line.outcome = outcome
  if (outcome === 'error') line.code = (response as { error: { code: number } }).error.code
  line.durationMs = durationMs
  return line
}

/**
 * One `info` line per MCP request when it ends ("MCP call"), and one per notification or client answer taken
 * ("MCP message"). Written to `log` (the app's logger, not a per-request child).
 */
export function createCallLog (log: Logger, idLabel = 'reqId'): CallObserver {
  return {
    begin: () => performance.now(),
    end (request, env, response, startedAt) {
      log.info(callLine(request, env, response, elapsedMs(startedAt as number), idLabel), 'MCP call')
    },
    message (message, env) {
      const line: Record<string, unknown> = {}
      if (env.http !== undefined) line[idLabel] = env.http.id
      if ('method' in message) line.method = message.method
      else line.answer = typeof message.id === 'string' ? cutShort(message.id) : message.id
      if (env.auth !== undefined) line.identity = env.auth.id
      if (env.session !== undefined) line.sessionId = env.session.id
      line.transport = env.transport
      log.info(line, 'MCP message')
    }
  }
}
