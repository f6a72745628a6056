import {
  ErrorCode, JsonRpcError, failure, success,
  type JsonRpcNotification, type JsonRpcRequest, type JsonRpcResponse, quoteValue
} from '../protocol/jsonrpc.js'
import type { CallEnv } from '../protocol/call-env.js'
import type { LocalClientSession } from '../protocol/client-session.js'
import type { Implementation, ListKind, ServerCapabilities } from '../protocol/spec.js'
import type { ServerServices } from '../protocol/handler-context.js'
import { isLoggingLevel } from '../protocol/logging-levels.js'
import { RequestCancelledError, errorMessage } from '../protocol/run-handler.js'
import { negotiateLegacyVersion } from '../protocol/versions.js'
import { ClientRequests, answererOf, type Answerer, type ForwardAnswer } from './client-requests.js'
import { NotificationHub, type ChangeEvent } from './notification-hub.js'
import { createToolRegistry, type ToolRegistry } from '../tools/tool-registry.js'
import type { AnyTool } from '../tools/tool-definition.js'
import { createResourceRegistry } from '../resources/resource-registry.js'
import type { AnyResource } from '../resources/resource-definition.js'
import { createPromptRegistry } from '../prompts/prompt-registry.js'
import type { AnyPrompt } from '../prompts/prompt-definition.js'
import { complete } from './complete.js'
import { createModernDispatch } from './modern-dispatch.js'
import { checkEnvelope, declaresModernEra, type ModernRequest } from '../protocol/modern/envelope.js'
import { InputRequired } from '../protocol/modern/input-round.js'
import type { CallObserver } from './call-observer.js'
import { RequestStateSigner } from '../protocol/modern/request-state.js'
import { createListenSink, acknowledgement, readListenFilters } from './listen-sink.js'
import type { JsonRpcId } from '../protocol/jsonrpc.js'
import { createRuntimeDefinitions, type RuntimeDefinitions } from './runtime-definitions.js'

/** Everything the server offers, independent of any transport. */
export interface McpServerDefinition {
  info: Implementation
  /** Sent to clients on initialize: how to use this server's tools. */
  instructions?: string
  tools: readonly AnyTool[]
  resources?: readonly AnyResource[]
  prompts?: readonly AnyPrompt[]
  /** Default per-call timeout for handlers, in ms; 0 or undefined for none. */
  toolTimeoutMs?: number
  /**
   * Secret that signs the `requestState` of 2026-era multi-round requests. Default: random per process, which
   * is right for one instance; give every instance behind a load balancer the same secret.
   */
  requestStateSecret?: string
  /** Names this process in the ids of server-to-client requests: its replica id in a cluster. Default: random. */
  origin?: string
  /** Carries a client's answer to the process that asked, when another one did (cluster mode). */
  forwardAnswer?: ForwardAnswer
  /** Told of every request and how it ended (telemetry); absent, requests pay nothing for it. */
  observer?: CallObserver
}

/**
 * Carries change events beyond this process's own sinks: to other replicas, to sessions in a shared store. Resolves
 * with how many clients it told (that it knows of).
 */
export type ChangeRelay = (event: ChangeEvent) => Promise<number>

export interface Dispatcher extends RuntimeDefinitions {
  readonly info: Implementation
  readonly capabilities: ServerCapabilities
  readonly tools: ToolRegistry
  /** What the server offers right now, as defined (runtime additions and removals included). */
  definitions: () => { tools: AnyTool[], resources: AnyResource[], prompts: AnyPrompt[] }
  /**
   * Answers one request: at once when its method answers synchronously, else through a promise. Undefined when
   * the client cancelled it (no response is due). Never throws or rejects.
   */
  handleRequest: (request: JsonRpcRequest, env: CallEnv) => MaybePromise<JsonRpcResponse | undefined>
  /**
   * Answers a 2026-07-28 request whose era the transport has decided and whose envelope it has checked
   * (`checkEnvelope`, `checkModernHttpRequest`): `env.modern` is that envelope, and `env` belongs to this request
   * alone. As `handleRequest`, synchronous when the method is.
   */
  handleModernRequest: (request: JsonRpcRequest, env: CallEnv & { modern: ModernRequest }) => MaybePromise<JsonRpcResponse | undefined>
  handleNotification: (notification: JsonRpcNotification, env: CallEnv) => void
  /** A client's answer to one of our requests (sampling, elicitation, roots); false if nothing waited for it. */
  handleResponse: (response: JsonRpcResponse, env: CallEnv) => boolean
  /** A client's answer from `answerer`, however it arrived (another replica may have forwarded it here). */
  settleAnswer: (response: JsonRpcResponse, answerer: Answerer) => boolean
  /**
   * Opens a 2026-era `subscriptions/listen` subscription: returns the acknowledgement to send first and the
   * function that ends the subscription.
   */
  listen: (request: JsonRpcRequest, send: (notification: JsonRpcNotification) => void) => { acknowledgement: JsonRpcNotification, close: () => void }
  /** Lets a session of this process receive change notifications; returns the detach function. */
  attachSession: (session: LocalClientSession) => () => void
  /**
   * Tells every client that asked about a change: the sinks of this process at once, then every relay (other
   * replicas, sessions kept in a shared store). Resolves with how many clients were told, as far as this process
   * knows (clients of other replicas' own streams are not counted).
   */
  notify: (event: ChangeEvent) => Promise<number>
  /** Delivers a change to this process's sinks only (an event another replica relayed here). */
  deliverLocally: (event: ChangeEvent) => number
  /** Adds a relay that `notify` also hands every event to; returns the function that removes it. */
  addRelay: (relay: ChangeRelay) => () => void
  notifyListChanged: (kind: ListKind) => Promise<number>
  notifyResourceUpdated: (uri: string) => Promise<number>
}

type Result = Record<string, unknown>
export type MaybePromise<T> = T | Promise<T>
type MethodHandler = (request: JsonRpcRequest, env: CallEnv) => Result | undefined | Promise<Result | undefined>

const EMPTY_RESULT: Result = Object.freeze({}) as Result

function requireUri (request: JsonRpcRequest): string {
  const uri = request.params?.uri
  if (typeof uri !== 'string' || uri === '') throw new JsonRpcError(ErrorCode.InvalidParams, `${request.method} needs "uri": the resource URI`)
  return uri
}

export function createDispatcher (definition: McpServerDefinition): Dispatcher {
  const hub = new NotificationHub()
  const relays = new Set<ChangeRelay>()
  const clientRequests = new ClientRequests(definition.origin, definition.forwardAnswer)

  async function notify (event: ChangeEvent): Promise<number> {
    const told = hub.deliver(event)
    const relayed = await Promise.all([...relays].map(async (relay) => await relay(event)))
    return relayed.reduce((sum, count) => sum + count, told)
  }

  const observer = definition.observer
  const services: ServerServices = {
    ask: async (env, _request, signal, requests) =>
      env.modern !== undefined ? env.modern.ask(requests) : await clientRequests.ask(env, signal, requests),
    notifyListChanged: (kind) => { void notify({ kind: 'list-changed', list: kind }) },
    notifyResourceUpdated: (uri) => { void notify({ kind: 'resource-updated', uri }) },
    progressed: observer?.progress
  }
  const timeoutMs = definition.toolTimeoutMs
  const tools = createToolRegistry(definition.tools, services, timeoutMs)
  const resources = createResourceRegistry(definition.resources ?? [], services, timeoutMs)
  const prompts = createPromptRegistry(definition.prompts ?? [], services, timeoutMs)

  // Grows when resources or prompts are first added at run time: clients that connect afterwards see them.
  const capabilities: ServerCapabilities = { tools: { listChanged: true }, logging: {} }

  function initialize (request: JsonRpcRequest, env: CallEnv): MaybePromise<Result> {
    const params = request.params ?? {}
    if (typeof params.protocolVersion !== 'string') {
      throw new JsonRpcError(ErrorCode.InvalidParams, 'initialize needs "protocolVersion": the MCP revision the client speaks, e.g. "2025-11-25"')
    }
    const protocolVersion = negotiateLegacyVersion(params.protocolVersion)
    const result: Result = { protocolVersion, capabilities, serverInfo: definition.info }
    if (definition.instructions !== undefined) result.instructions = definition.instructions
    const saved = env.session?.initialized({
      protocolVersion,
      clientInfo: params.clientInfo as Implementation | undefined,
      clientCapabilities: params.capabilities as Record<string, unknown> | undefined
    })
    return saved instanceof Promise ? saved.then(() => result) : result
  }

  function setLogLevel (request: JsonRpcRequest, env: CallEnv): MaybePromise<Result> {
    const level = request.params?.level
    if (!isLoggingLevel(level)) {
      throw new JsonRpcError(ErrorCode.InvalidParams,
        'logging/setLevel needs "level": one of debug, info, notice, warning, error, critical, alert, emergency')
    }
    const saved = env.session?.setLogLevel(level)
    return saved instanceof Promise ? saved.then(() => EMPTY_RESULT) : EMPTY_RESULT
  }

  function subscription (subscribe: boolean): MethodHandler {
    return (request, env) => {
      const uri = requireUri(request)
      const session = env.session
      if (session === undefined) {
        // Accepted as the spec's reference servers do, but a stateless request has nowhere to deliver updates.
        env.log.debug({ uri }, `${request.method} without a session: no updates can be delivered (use stateful mode, SSE or stdio)`)
        return EMPTY_RESULT
      }
      const saved = subscribe ? session.subscribe(uri) : session.unsubscribe(uri)
      return saved instanceof Promise ? saved.then(() => EMPTY_RESULT) : EMPTY_RESULT
    }
  }

  const methods = new Map<string, MethodHandler>([
    ['initialize', initialize],
    ['ping', () => EMPTY_RESULT],
    ['logging/setLevel', setLogLevel],
    ['tools/list', () => tools.list()],
    ['tools/call', (request, env) => tools.call(request, env) as Result | undefined | Promise<Result | undefined>]
  ])

  /** Serves resources or prompts: their methods, their capability, and completions for both. */
  function enable (kind: 'resources' | 'prompts'): void {
    if (capabilities[kind] !== undefined) return
    if (kind === 'resources') {
      capabilities.resources = { subscribe: true, listChanged: true }
      methods.set('resources/list', () => resources.list())
      methods.set('resources/templates/list', () => resources.listTemplates())
      methods.set('resources/read', async (request, env) => await resources.read(request, env) as Result | undefined)
      methods.set('resources/subscribe', subscription(true))
      methods.set('resources/unsubscribe', subscription(false))
    } else {
      capabilities.prompts = { listChanged: true }
      methods.set('prompts/list', () => prompts.list())
      methods.set('prompts/get', async (request, env) => await prompts.get(request, env) as Result | undefined)
    }
    capabilities.completions = {}
    methods.set('completion/complete', async (request) => await complete(request, prompts, resources))
  }
  if (resources.size > 0) enable('resources')
  if (prompts.size > 0) enable('prompts')

  const handleModern = createModernDispatch({
    info: definition.info,
    instructions: definition.instructions,
    capabilities,
    // Shared, not copied: methods enabled at run time are served in both eras. The 2026 dispatch refuses the
    // methods that revision removed (its REMOVED_METHODS) before looking here.
    methods,
    signer: new RequestStateSigner(definition.requestStateSecret)
  })

  function respond (request: JsonRpcRequest, result: Result | undefined): JsonRpcResponse | undefined {
    return result === undefined ? undefined : success(request.id, result)
  }

  function failed (request: JsonRpcRequest, env: CallEnv, error: unknown): JsonRpcResponse {
    if (error instanceof JsonRpcError) return { jsonrpc: '2.0', id: request.id, error: error.toObject() }
    if (error instanceof InputRequired) {
      return failure(request.id, ErrorCode.InvalidRequest, 'This request needs input from the client; send it in the 2026-07-28 era or over a transport that carries server requests')
    }
    env.log.error({ err: error, method: request.method }, 'Request handler failed')
    return failure(request.id, ErrorCode.InternalError, `Internal error while handling ${request.method}: ${errorMessage(error)}`)
  }

  // Not an async function: a method that answers synchronously (most tools) is answered with no promise at all.
  function answerLegacy (request: JsonRpcRequest, env: CallEnv): MaybePromise<JsonRpcResponse | undefined> {
    const method = methods.get(request.method)
    if (method === undefined) {
      return failure(request.id, ErrorCode.MethodNotFound, `Method not found: ${quoteValue(request.method)}. This server implements: ${[...methods.keys()].join(', ')}`)
    }
    let result: ReturnType<MethodHandler>
    try {
      result = method(request, env)
    } catch (error) {
      return failed(request, env, error)
    }
    if (!(result instanceof Promise)) return respond(request, result)
    return result.then((value) => respond(request, value), (error: unknown) => failed(request, env, error))
  }

  /** Runs `answer` under the observer's watch; without an observer, just runs it. */
  function observed<E extends CallEnv> (
    request: JsonRpcRequest, env: E, answer: (request: JsonRpcRequest, env: E) => MaybePromise<JsonRpcResponse | undefined>
  ): MaybePromise<JsonRpcResponse | undefined> {
    if (observer === undefined) return answer(request, env)
    const watch = observer.begin(request, env)
    const response = observer.within === undefined ? answer(request, env) : observer.within(watch, () => answer(request, env))
    if (!(response instanceof Promise)) {
      observer.end(request, env, response, watch)
      return response
    }
    return response.then((settled) => {
      observer.end(request, env, settled, watch)
      return settled
    })
  }

  function handleModernRequest (request: JsonRpcRequest, env: CallEnv & { modern: ModernRequest }): MaybePromise<JsonRpcResponse | undefined> {
    return observed(request, env, handleModern)
  }

  function handleRequest (request: JsonRpcRequest, env: CallEnv): MaybePromise<JsonRpcResponse | undefined> {
    if (!declaresModernEra(request)) return observed(request, env, answerLegacy)
    const envelope = checkEnvelope(request)
    if ('jsonrpc' in envelope) return observed(request, env, () => envelope)
    // Derived, not copied: this env may be shared by a connection's requests (stdio) or hold lazy getters.
    const call: CallEnv = Object.create(env)
    call.modern = envelope
    return handleModernRequest(request, call as CallEnv & { modern: ModernRequest })
  }

  function handleNotification (notification: JsonRpcNotification, env: CallEnv): void {
    observer?.message?.(notification, env)
    if (notification.method === 'notifications/cancelled') {
      const requestId = notification.params?.requestId
      if (typeof requestId !== 'string' && typeof requestId !== 'number') return
      ;(env.session?.inFlight ?? env.inFlight)?.get(requestId)?.abort(new RequestCancelledError(notification.params?.reason))
    }
  }

  function attachSession (session: LocalClientSession): () => void {
    return hub.add({
      // A 2026-07-28 client (stdio) never initializes: it hears changes through its subscriptions/listen only.
      wantsListChanged: () => session.protocolVersion !== undefined,
      wantsResourceUpdated: (uri) => session.subscriptions.has(uri),
      send: (notification) => { session.send?.(notification) }
    })
  }

  function listen (request: JsonRpcRequest, send: (notification: JsonRpcNotification) => void): { acknowledgement: JsonRpcNotification, close: () => void } {
    const id: JsonRpcId = request.id
    const filters = readListenFilters(request.params)
    return { acknowledgement: acknowledgement(id, filters), close: hub.add(createListenSink(id, filters, send)) }
  }

  // Like notifyListChanged, a change is relayed to other replicas' clients too (in cluster mode each replica makes
  // its own changes: definitions live in the process).
  const runtime = createRuntimeDefinitions({ tools, resources, prompts, enable, listChanged: (kind) => { void notify({ kind: 'list-changed', list: kind }) } })

  return {
    ...runtime,
    info: definition.info,
    capabilities,
    tools,
    definitions: () => ({ tools: tools.definitions(), resources: resources.definitions(), prompts: prompts.definitions() }),
    handleRequest,
    handleModernRequest,
    handleNotification,
    handleResponse: (response, env) => {
      observer?.message?.(response, env)
      return clientRequests.settle(response, answererOf(env))
    },
    settleAnswer: (response, answerer) => clientRequests.settle(response, answerer),
    listen,
    attachSession,
    notify,
    deliverLocally: (event) => hub.deliver(event),
    addRelay (relay) {
      relays.add(relay)
      return () => { relays.delete(relay) }
    },
    notifyListChanged: (kind) => notify({ kind: 'list-changed', list: kind }),
    notifyResourceUpdated: (uri) => notify({ kind: 'resource-updated', uri })
  }
}
