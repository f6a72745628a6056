import { Readable } from 'node:stream'
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import type { AuthIdentity, TransportName } from '../protocol/identity.js'
import type { JsonRpcId } from '../protocol/jsonrpc.js'

/** What a bridged route learns about the MCP call that runs it, in `request.mcpBridge`. */
export interface McpBridgeCall {
  /** The tool the client called. */
  readonly tool: string
  /**
   * The caller, as the plugin's auth verified it (the token stays with the MCP request: it is never copied onto
   * the route's request). Undefined when the plugin runs with `auth: false`, and on stdio.
   */
  readonly auth: AuthIdentity | undefined
  readonly transport: TransportName
  /** The MCP session, when the transport has one. */
  readonly sessionId: string | undefined
  /** The JSON-RPC id of the `tools/call` request, for correlating logs. */
  readonly requestId: JsonRpcId
}

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The MCP call behind this request when the route runs as a tool (fastify-mcp-host's route bridge); null for
     * every other request. Trust it: it cannot be set from outside the process (see docs/route-bridge.md).
     */
    readonly mcpBridge: McpBridgeCall | null
  }
}

/**
 * Where a bridged call hides on the injected request: a property of the request's prototype under a symbol that
 * never leaves this module. A request from the network is an `http.IncomingMessage`, whose prototype cannot have
 * it, and no header, query or body can put it there.
 */
const BRIDGED_CALL = Symbol('fastify-mcp-host.bridged-call')

/** The bridge's side of one call: the facts the route sees, and the switch that aborts the route's request. */
export class BridgedCall {
  private raw: Readable | undefined

  constructor (readonly info: McpBridgeCall, private readonly signal: AbortSignal) {}

  /**
   * The request class light-my-request builds this call's request from (its documented `Request` option): a
   * subclass of Readable made for this one call, carrying the call on its prototype.
   */
  requestClass (): typeof Readable {
    class BridgedRequest extends Readable {}
    Object.defineProperty(BridgedRequest.prototype, BRIDGED_CALL, { value: this })
    return BridgedRequest
  }

  /** The route's request has started: from now on, stopping the call aborts it. */
  attach (raw: Readable): void {
    if (this.raw !== undefined) return
    this.raw = raw
    if (this.signal.aborted) abortRequest(raw)
    else this.signal.addEventListener('abort', () => { abortRequest(raw) }, { once: true })
  }
}

/**
 * Does to the injected request what a client that hangs up does to a real one: `request.signal` fires, and the
 * route's `onRequestAbort` hooks run. (light-my-request's own `destroy()` does nothing once the body was read.)
 */
function abortRequest (raw: Readable): void {
  if (raw.destroyed) return
  ;(raw as Readable & { aborted: boolean }).aborted = true
  raw.emit('close')
}

export function bridgedCallOf (raw: object): BridgedCall | undefined {
  return (raw as { [BRIDGED_CALL]?: BridgedCall })[BRIDGED_CALL]
}

/** The getter behind `request.mcpBridge`. */
export function mcpBridgeOf (request: FastifyRequest): McpBridgeCall | null {
  return bridgedCallOf(request.raw)?.info ?? null
}

/** A route-level onRequest hook on every marked route: ties a bridged call to its request, so it can abort it. */
export function attachBridgedCall (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
  bridgedCallOf(request.raw)?.attach(request.raw as unknown as Readable)
  done()
}
