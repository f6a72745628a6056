import { ErrorCode, JsonRpcError, failure, success, type JsonRpcRequest, type JsonRpcResponse, quoteValue } from '../protocol/jsonrpc.js'
import type { CallEnv } from '../protocol/call-env.js'
import type { Implementation, ServerCapabilities } from '../protocol/spec.js'
import { errorMessage } from '../protocol/run-handler.js'
import { META, MODERN_PROTOCOL_VERSIONS, type ModernRequest } from '../protocol/modern/envelope.js'
import { InputRequired, readInputResponses } from '../protocol/modern/input-round.js'
import type { RequestStateSigner } from '../protocol/modern/request-state.js'
import { issueRequestState, resumeInputRound } from '../protocol/modern/input-state.js'

type Result = Record<string, unknown>
export type MethodHandler = (request: JsonRpcRequest, env: CallEnv) => Result | undefined | Promise<Result | undefined>

export interface ModernDispatchOptions {
  info: Implementation
  instructions: string | undefined
  /** The 2025-era capabilities (they grow when resources or prompts are first added); the 2026 ones derive from them. */
  capabilities: ServerCapabilities
  /** The 2025 era's methods, live; those the 2026 revision removed are refused before a lookup. */
  methods: ReadonlyMap<string, MethodHandler>
  signer: RequestStateSigner
}

/**
 * Methods whose results a client may cache, and for how long. Lists (and the capabilities in server/discover)
 * can change at any moment (`fastify.mcp.addTool()` and the like), so none is fresh for longer than its answer:
 * clients that want to know when to fetch again listen for list-changed notifications.
 */
const CACHE_HINTS: Record<string, { ttlMs: number, cacheScope: 'public' | 'private' }> = {
  'server/discover': { ttlMs: 0, cacheScope: 'public' },
  'tools/list': { ttlMs: 0, cacheScope: 'public' },
  'prompts/list': { ttlMs: 0, cacheScope: 'public' },
  'resources/list': { ttlMs: 0, cacheScope: 'public' },
  'resources/templates/list': { ttlMs: 0, cacheScope: 'public' },
  'resources/read': { ttlMs: 0, cacheScope: 'private' }
}

/** Methods that may need input from the client, and so may run in several rounds. */
const MULTI_ROUND = new Set(['tools/call', 'prompts/get', 'resources/read'])

const REMOVED_METHODS = new Set(['initialize', 'ping', 'logging/setLevel', 'resources/subscribe', 'resources/unsubscribe', 'notifications/initialized'])

function modernCapabilities (legacy: ServerCapabilities): ServerCapabilities {
  const capabilities: ServerCapabilities = {}
  if (legacy.tools !== undefined) capabilities.tools = { listChanged: true }
  if (legacy.prompts !== undefined) capabilities.prompts = { listChanged: true }
  if (legacy.resources !== undefined) capabilities.resources = { subscribe: true, listChanged: true }
  if (legacy.completions !== undefined) capabilities.completions = {}
  return capabilities
}

type ModernEnv = CallEnv & { modern: ModernRequest }
type MaybePromise<T> = T | Promise<T>

/**
 * Serves 2026-07-28 requests whose envelope the caller has checked (`env.modern`): each stands alone with its
 * client facts in `_meta`; results say their `resultType`; a handler that needs client input ends the round
 * `input_required` with a signed `requestState`. Not an async function: a method that answers synchronously is
 * answered with no promise, as in the 2025 era.
 */
export function createModernDispatch (options: ModernDispatchOptions): (request: JsonRpcRequest, env: ModernEnv) => MaybePromise<JsonRpcResponse | undefined> {
  const { info, signer } = options
  const serverMeta = { [META.serverInfo]: info }
  const methods = options.methods
  const discover: MethodHandler = () => {
    const result: Result = { supportedVersions: [...MODERN_PROTOCOL_VERSIONS], capabilities: modernCapabilities(options.capabilities) }
    if (options.instructions !== undefined) result.instructions = options.instructions
    return result
  }

  function complete (request: JsonRpcRequest, result: Result): JsonRpcResponse {
    const meta = typeof result._meta === 'object' && result._meta !== null ? { ...result._meta, ...serverMeta } : serverMeta
    const hints = CACHE_HINTS[request.method]
    return success(request.id, hints === undefined
      ? { ...result, resultType: 'complete', _meta: meta }
      : { ...result, resultType: 'complete', ...hints, _meta: meta })
  }

  /** The answer once the method has returned (`result`) or thrown (`error`). */
  function settle (request: JsonRpcRequest, env: ModernEnv, result: Result | undefined, error: unknown): JsonRpcResponse | undefined {
    if (error !== undefined && !(error instanceof InputRequired)) return failed(request, env, error)
    const modern = env.modern
    if (modern.needsInput) {
      try {
        const requestState = issueRequestState(signer, request, env, [...modern.asked], Object.keys(modern.missing), modern.used)
        return success(request.id, { resultType: 'input_required', inputRequests: modern.missing, requestState, _meta: serverMeta })
      } catch (stateError) {
        return failed(request, env, stateError)
      }
    }
    return result === undefined ? undefined : complete(request, result)
  }

  function failed (request: JsonRpcRequest, env: ModernEnv, error: unknown): JsonRpcResponse {
    if (error instanceof JsonRpcError) {
      const code = error.code === ErrorCode.ResourceNotFound ? ErrorCode.InvalidParams : error.code
      return failure(request.id, code, error.message, error.data)
    }
    env.log.error({ err: error, method: request.method }, 'Request handler failed')
    return failure(request.id, ErrorCode.InternalError, `Internal error while handling ${request.method}: ${errorMessage(error)}`)
  }

  return function handleModern (request, env) {
    const method = request.method === 'server/discover' ? discover : REMOVED_METHODS.has(request.method) ? undefined : methods.get(request.method)
    if (method === undefined) {
      const why = REMOVED_METHODS.has(request.method) ? ' (removed in 2026-07-28)' : ''
      return failure(request.id, ErrorCode.MethodNotFound, `Method not found: ${quoteValue(request.method)}${why}`)
    }
    let result: ReturnType<MethodHandler>
    try {
      const params = request.params
      // Only a later round carries earlier answers: a first round has neither of these.
      if (MULTI_ROUND.has(request.method) && (params?.requestState !== undefined || params?.inputResponses !== undefined)) {
        const resumed = resumeInputRound(signer, request, env, readInputResponses(params.inputResponses))
        env.modern.resume(resumed.answers, resumed.asked)
      }
      result = method(request, env)
    } catch (error) {
      return settle(request, env, undefined, error ?? new Error(String(error)))
    }
    if (!(result instanceof Promise)) return settle(request, env, result, undefined)
    return result.then(
      (value) => settle(request, env, value, undefined),
      (error: unknown) => settle(request, env, undefined, error ?? new Error(String(error)))
    )
  }
}
