import type { JsonRpcId, JsonRpcRequest } from './jsonrpc.js'
import type { AuthIdentity, TransportName } from './identity.js'
import type {
  ClientCapabilities, CreateMessageRequestParams, CreateMessageResult, ElicitRequestParams, ElicitResult, Implementation, LoggingLevel
} from './spec.js'
import type { Logger } from './logger.js'
import type { CallEnv } from './call-env.js'
import type { InputRequests, InputResponses } from './client-requests.js'
import type { ListKind } from './notification-hub.js'

/** What handlers can ask of the server as a whole. */
export interface ServerServices {
  /** Gets answers from the client: server-to-client requests (2025 era) or an input-required round trip (2026). */
  ask: (env: CallEnv, request: JsonRpcRequest, signal: AbortSignal, requests: InputRequests) => Promise<InputResponses>
  notifyListChanged: (kind: ListKind) => void
  notifyResourceUpdated: (uri: string) => void
}

export interface InputOptions {
  /** Names this input, so a 2026-era client's answer can be matched to it. Default: the method and a counter. */
  key?: string
}

/** What every tool, resource and prompt handler receives beside its arguments. */
export interface HandlerContext {
  /** Fires when the client cancels the request or goes away, or the handler's timeout passes. */
  readonly signal: AbortSignal
  /** Which transport carried the request. */
  readonly transport: TransportName
  /** The caller as auth established it; undefined when auth is off (and on stdio). */
  readonly auth: AuthIdentity | undefined
  /** Server-side logger (pino), bound to the request. Never sent to the client. */
  readonly log: Logger
  /** The protocol session, when the transport has one (SSE, stateful Streamable HTTP). */
  readonly sessionId: string | undefined
  readonly requestId: JsonRpcId
  /** The progress token the client sent in the request's `_meta`, if any; `progress()` reports against it. */
  readonly progressToken: string | number | undefined
  /**
   * Reports progress to the client. A no-op unless the request carried a progress token and the transport can
   * deliver notifications while the request runs.
   */
  progress: (progress: number, total?: number, message?: string) => void
  /** Sends a log message to the client (`notifications/message`), honouring its `logging/setLevel`. */
  sendLog: (level: LoggingLevel, data: unknown, logger?: string) => void
  /** What the client said it can do (sampling, elicitation, roots), when known. */
  readonly clientCapabilities: ClientCapabilities | undefined
  readonly clientInfo: Implementation | undefined
  /** Asks the user for input through the client (`elicitation/create`). */
  elicit: (params: ElicitRequestParams, options?: InputOptions) => Promise<ElicitResult>
  /** Asks the client's model for a completion (`sampling/createMessage`). */
  sample: (params: CreateMessageRequestParams, options?: InputOptions) => Promise<CreateMessageResult>
  /** Asks the client for its roots (`roots/list`). */
  listRoots: (options?: InputOptions) => Promise<{ roots: Array<{ uri: string, name?: string }> }>
  /** Several of the above at once, by key: one round trip in the 2026 era. */
  requestInputs: (requests: InputRequests) => Promise<InputResponses>
  /** Tells subscribed clients that a list changed (after tools, prompts or resources were added or removed). */
  notifyListChanged: (kind: ListKind) => void
  /** Tells clients subscribed to `uri` that it changed. */
  notifyResourceUpdated: (uri: string) => void
}

const LEVEL_ORDER: Record<LoggingLevel, number> = {
  debug: 0, info: 1, notice: 2, warning: 3, error: 4, critical: 5, alert: 6, emergency: 7
}

export function isLoggingLevel (value: unknown): value is LoggingLevel {
  return typeof value === 'string' && value in LEVEL_ORDER
}

function progressTokenOf (request: JsonRpcRequest): string | number | undefined {
  const meta = request.params?._meta
  if (typeof meta !== 'object' || meta === null) return undefined
  const token = (meta as Record<string, unknown>).progressToken
  return typeof token === 'string' || typeof token === 'number' ? token : undefined
}

export function createHandlerContext (env: CallEnv, request: JsonRpcRequest, signal: AbortSignal, services: ServerServices): HandlerContext {
  const progressToken = progressTokenOf(request)
  const notify = env.notify
  let inputCount = 0
  async function askOne (method: string, params: Record<string, unknown>, key: string | undefined): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
    const name = key ?? `${method}#${++inputCount}`
    const answers = await services.ask(env, request, signal, { [name]: { method, params } })
    return answers[name]
  }
  return {
    signal,
    transport: env.transport,
    auth: env.auth,
    log: env.log,
    sessionId: env.session?.id,
    requestId: request.id,
    progressToken,
    progress (progress, total, message) {
      if (progressToken === undefined || notify === undefined || signal.aborted) return
      const params: Record<string, unknown> = { progressToken, progress }
      if (total !== undefined) params.total = total
      if (message !== undefined) params.message = message
      notify({ jsonrpc: '2.0', method: 'notifications/progress', params })
    },
    sendLog (level, data, logger) {
      if (notify === undefined || signal.aborted) return
      if (env.inputRound !== undefined && env.logLevel === undefined) return
      const threshold = env.logLevel ?? env.session?.logLevel
      if (threshold !== undefined && LEVEL_ORDER[level] < LEVEL_ORDER[threshold]) return
      const params: Record<string, unknown> = { level, data }
      if (logger !== undefined) params.logger = logger
      notify({ jsonrpc: '2.0', method: 'notifications/message', params })
    },
    get clientCapabilities () { return env.clientCapabilities ?? env.session?.clientCapabilities },
    get clientInfo () { return env.clientInfo ?? env.session?.clientInfo },
    elicit: async (params, options) => await askOne('elicitation/create', params as unknown as Record<string, unknown>, options?.key),
    sample: async (params, options) => await askOne('sampling/createMessage', params as unknown as Record<string, unknown>, options?.key),
    listRoots: async (options) => await askOne('roots/list', {}, options?.key),
    requestInputs: async (requests) => await services.ask(env, request, signal, requests),
    notifyListChanged: services.notifyListChanged,
    notifyResourceUpdated: services.notifyResourceUpdated
  }
}
