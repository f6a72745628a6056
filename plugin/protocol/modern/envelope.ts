import { ErrorCode, JsonRpcError, failure, isObjectValue, quoteValue, cutShort, type JsonRpcFailure, type JsonRpcRequest } from '../jsonrpc.js'
import type { ClientCapabilities, Implementation, LoggingLevel } from '../spec.js'
import type { InputRequests, InputResponses } from '../input-requests.js'
import { isLoggingLevel } from '../logging-levels.js'
import { InputRequired } from './input-round.js'

/** The revision that made MCP stateless: no initialize, the client's facts travel in every request's `_meta`. */
export const MODERN_PROTOCOL_VERSION = '2026-07-28'
export const MODERN_PROTOCOL_VERSIONS = [MODERN_PROTOCOL_VERSION] as const

export const META = {
  protocolVersion: 'io.modelcontextprotocol/protocolVersion',
  clientCapabilities: 'io.modelcontextprotocol/clientCapabilities',
  clientInfo: 'io.modelcontextprotocol/clientInfo',
  logLevel: 'io.modelcontextprotocol/logLevel',
  serverInfo: 'io.modelcontextprotocol/serverInfo',
  subscriptionId: 'io.modelcontextprotocol/subscriptionId'
} as const

/** Error codes the 2026-07-28 revision adds. */
export const ModernErrorCode = {
  HeaderMismatch: -32020,
  MissingCapability: -32021,
  UnsupportedVersion: -32022
} as const

const CAPABILITY_OF: Record<string, keyof ClientCapabilities> = {
  'elicitation/create': 'elicitation',
  'sampling/createMessage': 'sampling',
  'roots/list': 'roots'
}

const NO_ANSWERS: InputResponses = Object.freeze({}) as InputResponses
const NOTHING_ASKED: readonly string[] = Object.freeze([])

/**
 * One 2026-07-28 request beyond its params: the client's facts from its checked `_meta` envelope, and its round of
 * input requests (multi-round-trip requests): handlers run again on every round, each `ctx.elicit()` finds its
 * answer by key among those the client sent (or that earlier rounds left in the signed `requestState`), and the
 * first missing one ends the round input-required. One object per request, made when the envelope is checked; the
 * round's bookkeeping is made only if a handler asks for input.
 */
export class ModernRequest {
  private answers: InputResponses = NO_ANSWERS
  /** Keys of the input requests asked in earlier rounds (from the `requestState`). */
  asked: readonly string[] = NOTHING_ASKED
  private missingRequests: InputRequests | undefined = undefined
  private usedAnswers: InputResponses | undefined = undefined

  constructor (
    readonly protocolVersion: string,
    readonly clientCapabilities: ClientCapabilities,
    readonly clientInfo: Implementation | undefined,
    /** The lowest log level the request asked for in `_meta`; no log messages when absent. */
    readonly logLevel: LoggingLevel | undefined
  ) {}

  /** The answers earlier rounds left in the `requestState` plus those this round carries, and what was asked. */
  resume (answers: InputResponses, asked: readonly string[]): void {
    this.answers = answers
    this.asked = asked
  }

  get needsInput (): boolean {
    return this.missingRequests !== undefined
  }

  /** Questions asked this round that have no answer yet. */
  get missing (): InputRequests {
    return this.missingRequests ?? {}
  }

  /** Answers the handler used, carried to the next round in `requestState`. */
  get used (): InputResponses {
    return this.usedAnswers ?? {}
  }

  /** The answers to `requests`, or InputRequired when one has none yet (the round then ends input_required). */
  ask (requests: InputRequests): InputResponses {
    const found: InputResponses = {}
    for (const [key, request] of Object.entries(requests)) {
      const capability = CAPABILITY_OF[request.method]
      if (capability !== undefined && this.clientCapabilities[capability] === undefined) {
        throw new JsonRpcError(ModernErrorCode.MissingCapability,
          `This request needs the client's "${capability}" capability, which the client did not declare`,
          { requiredCapabilities: { [capability]: {} } })
      }
      if (Object.hasOwn(this.answers, key)) {
        found[key] = this.answers[key]
        ;(this.usedAnswers ??= {})[key] = this.answers[key]
      } else {
        (this.missingRequests ??= {})[key] = request
      }
    }
    if (this.needsInput) throw new InputRequired()
    return found
  }
}

/** True when a request carries the 2026-era `_meta` protocol version, which is how it declares its era. */
export function declaresModernEra (request: { params?: Record<string, unknown> }): boolean {
  const meta = request.params?._meta
  return isObjectValue(meta) && META.protocolVersion in meta
}

/** The request's `_meta` envelope, or a sentence saying what is missing. */
export function readEnvelope (request: JsonRpcRequest): ModernRequest | string {
  const meta = request.params?._meta
  if (!isObjectValue(meta)) return `every ${MODERN_PROTOCOL_VERSION} request needs params._meta with "${META.protocolVersion}" and "${META.clientCapabilities}"`
  const protocolVersion = meta[META.protocolVersion]
  if (typeof protocolVersion !== 'string') return `params._meta needs "${META.protocolVersion}" (a string such as "${MODERN_PROTOCOL_VERSION}")`
  const clientCapabilities = meta[META.clientCapabilities]
  if (!isObjectValue(clientCapabilities)) return `params._meta needs "${META.clientCapabilities}" (an object; {} when the client offers nothing)`
  const clientInfo = meta[META.clientInfo]
  const logLevel = meta[META.logLevel]
  return new ModernRequest(
    protocolVersion,
    clientCapabilities,
    isObjectValue(clientInfo) ? clientInfo as unknown as Implementation : undefined,
    isLoggingLevel(logLevel) ? logLevel : undefined
  )
}

/** Checks a request's `_meta` envelope: the 2026 revision's required keys and a version we speak. */
export function checkEnvelope (request: JsonRpcRequest): ModernRequest | JsonRpcFailure {
  const envelope = readEnvelope(request)
  if (typeof envelope === 'string') return failure(request.id, ErrorCode.InvalidParams, `Invalid params: ${envelope}`)
  if (!(MODERN_PROTOCOL_VERSIONS as readonly string[]).includes(envelope.protocolVersion)) {
    return failure(request.id, ModernErrorCode.UnsupportedVersion,
      `Unsupported protocol version ${quoteValue(envelope.protocolVersion)}: this server speaks ${MODERN_PROTOCOL_VERSIONS.join(', ')} (and the 2025 revisions through initialize)`,
      { supported: [...MODERN_PROTOCOL_VERSIONS], requested: cutShort(envelope.protocolVersion) })
  }
  return envelope
}
