import type { JsonRpcId, JsonRpcNotification, JsonRpcRequest } from './jsonrpc.js'
import type { AuthIdentity, TransportName } from './identity.js'
import type {
  ClientCapabilities, CreateMessageRequestParams, CreateMessageResult, ElicitRequestParams, ElicitResult, Implementation, LoggingLevel
} from './spec.js'
import type { Logger } from './logger.js'
import type { CallEnv, HttpOrigin } from './call-env.js'
import type { InputRequests, InputResponses } from './input-requests.js'
import { passesLevel } from './logging-levels.js'
import type { ListKind } from './spec.js'

/** What handlers can ask of the server as a whole. */
export interface ServerServices {
  /** Gets answers from the client: server-to-client requests (2025 era) or an input-required round trip (2026). */
  ask: (env: CallEnv, request: JsonRpcRequest, signal: AbortSignal, requests: InputRequests) => Promise<InputResponses>
  notifyListChanged: (kind: ListKind) => void
  notifyResourceUpdated: (uri: string) => void
  /** Told of every progress notification a handler sends (telemetry); absent when nothing watches. */
  progressed?: (request: JsonRpcRequest, notification: JsonRpcNotification) => void
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

function progressTokenOf (request: JsonRpcRequest): string | number | undefined {
  const meta = request.params?._meta
  if (typeof meta !== 'object' || meta === null) return undefined
  const token = (meta as Record<string, unknown>).progressToken
  return typeof token === 'string' || typeof token === 'number' ? token : undefined
}

/** Where a handler's signal comes from: made on first use, since most handlers never look at it. */
export interface SignalSource {
  readonly signal: AbortSignal
  /** Whether the call was already stopped (cancelled, timed out, client gone), without making a signal. */
  readonly stopped: boolean
}

/** The context of one call. Methods live on the prototype: a call allocates this one object, not a closure each. */
class CallContext implements HandlerContext {
  readonly progressToken: string | number | undefined
  private inputCount = 0

  constructor (
    private readonly env: CallEnv,
    private readonly request: JsonRpcRequest,
    private readonly source: SignalSource,
    private readonly services: ServerServices
  ) {
    this.progressToken = progressTokenOf(request)
  }

  get signal (): AbortSignal { return this.source.signal }
  get transport (): TransportName { return this.env.transport }
  get auth (): AuthIdentity | undefined { return this.env.auth }
  get log (): Logger { return this.env.log }
  get sessionId (): string | undefined { return this.env.session?.id }
  get requestId (): JsonRpcId { return this.request.id }
  get clientCapabilities (): ClientCapabilities | undefined { return this.env.modern?.clientCapabilities ?? this.env.session?.clientCapabilities }
  get clientInfo (): Implementation | undefined { return this.env.modern?.clientInfo ?? this.env.session?.clientInfo }

  progress (progress: number, total?: number, message?: string): void {
    const notify = this.env.notify
    if (this.progressToken === undefined || notify === undefined || this.source.stopped) return
    const params: Record<string, unknown> = { progressToken: this.progressToken, progress }
    if (total !== undefined) params.total = total
    if (message !== undefined) params.message = message
    const notification: JsonRpcNotification = { jsonrpc: '2.0', method: 'notifications/progress', params }
    this.services.progressed?.(this.request, notification)
    notify(notification)
  }

  sendLog (level: LoggingLevel, data: unknown, logger?: string): void {
    const env = this.env
    if (env.notify === undefined || this.source.stopped) return
    // A 2026-era request gets log messages only at the level its `_meta` asked for, none without one.
    const modern = env.modern
    if (modern !== undefined ? modern.logLevel === undefined || !passesLevel(level, modern.logLevel) : !passesLevel(level, env.session?.logLevel)) return
    const params: Record<string, unknown> = { level, data }
    if (logger !== undefined) params.logger = logger
    env.notify({ jsonrpc: '2.0', method: 'notifications/message', params })
  }

  async elicit (params: ElicitRequestParams, options?: InputOptions): Promise<ElicitResult> {
    return await this.askOne('elicitation/create', params as unknown as Record<string, unknown>, options?.key) as ElicitResult
  }

  async sample (params: CreateMessageRequestParams, options?: InputOptions): Promise<CreateMessageResult> {
    return await this.askOne('sampling/createMessage', params as unknown as Record<string, unknown>, options?.key) as unknown as CreateMessageResult
  }

  async listRoots (options?: InputOptions): Promise<{ roots: Array<{ uri: string, name?: string }> }> {
    return await this.askOne('roots/list', {}, options?.key) as { roots: Array<{ uri: string, name?: string }> }
  }

  async requestInputs (requests: InputRequests): Promise<InputResponses> {
    return await this.services.ask(this.env, this.request, this.signal, requests)
  }

  notifyListChanged (kind: ListKind): void { this.services.notifyListChanged(kind) }
  notifyResourceUpdated (uri: string): void { this.services.notifyResourceUpdated(uri) }

  /** For `httpOriginOf` only: a static member reads the private env without putting it on the handler's object. */
  static originOf (ctx: CallContext): HttpOrigin | undefined {
    return ctx.env.http
  }

  private async askOne (method: string, params: Record<string, unknown>, key: string | undefined): Promise<Record<string, unknown>> {
    const name = key ?? `${method}#${++this.inputCount}`
    const answers = await this.services.ask(this.env, this.request, this.signal, { [name]: { method, params } })
    return answers[name]
  }
}

export function createHandlerContext (env: CallEnv, request: JsonRpcRequest, source: SignalSource, services: ServerServices): HandlerContext {
  return new CallContext(env, request, source, services)
}

/** The HTTP request behind a call (for the route bridge); undefined on stdio and for contexts made elsewhere. */
export function httpOriginOf (ctx: HandlerContext): HttpOrigin | undefined {
  return ctx instanceof CallContext ? CallContext.originOf(ctx) : undefined
}
