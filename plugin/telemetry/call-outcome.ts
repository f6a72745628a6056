import { cutShort, type JsonRpcRequest, type JsonRpcResponse } from '../protocol/jsonrpc.js'

/** How a call ended, as logs, spans and metrics name it. */
export type Outcome = 'ok' | 'tool_error' | 'error' | 'cancelled' | 'input_required'

export function outcomeOf (response: JsonRpcResponse | undefined): Outcome {
  if (response === undefined) return 'cancelled'
  if ('error' in response) return 'error'
  const result = response.result
  if (result.isError === true) return 'tool_error'
  if (result.resultType === 'input_required') return 'input_required'
  return 'ok'
}

/** What a call is about: the tool or prompt name, or the resource URI (without its query string: it may hold a secret). */
export function targetOf (request: JsonRpcRequest): { kind: 'tool' | 'prompt' | 'resource', name: string } | undefined {
  const params = request.params
  if (params === undefined) return undefined
  switch (request.method) {
    case 'tools/call': return typeof params.name === 'string' ? { kind: 'tool', name: cutShort(params.name) } : undefined
    case 'prompts/get': return typeof params.name === 'string' ? { kind: 'prompt', name: cutShort(params.name) } : undefined
    case 'resources/read':
    case 'resources/subscribe':
    case 'resources/unsubscribe':
      return typeof params.uri === 'string' ? { kind: 'resource', name: cutShort(withoutQuery(params.uri)) } : undefined
    default: return undefined
  }
}

function withoutQuery (uri: string): string {
  const cut = uri.search(/[?#]/)
  return cut === -1 ? uri : `${uri.slice(0, cut)}?[redacted]`
}
