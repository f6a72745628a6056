import { ErrorCode, JsonRpcError, isObjectValue, quoteValue } from '../jsonrpc.js'
import type { ClientCapabilities } from '../spec.js'
import type { InputRequests, InputResponses } from '../input-requests.js'
import { ModernErrorCode } from './envelope.js'

/** Thrown out of `ctx.elicit()` and friends when the answer is not in this round: the request ends input-required. */
export class InputRequired extends Error {
  constructor () {
    super('The client must answer input requests before this call can finish')
    this.name = 'InputRequired'
  }
}

const CAPABILITY_OF: Record<string, keyof ClientCapabilities> = {
  'elicitation/create': 'elicitation',
  'sampling/createMessage': 'sampling',
  'roots/list': 'roots'
}

/**
 * One round of a 2026-era request that may need input from the client (multi-round-trip requests): handlers
 * run again on every round, each `ctx.elicit()` finds its answer by key among those the client sent (or that
 * earlier rounds left in the signed `requestState`), and the first missing one ends the round input-required.
 */
export class InputRound {
  /** Questions asked this round that have no answer yet. */
  readonly missing: InputRequests = {}
  /** Answers the handler used, carried to the next round in `requestState`. */
  readonly used: InputResponses = {}

  constructor (private readonly answers: InputResponses, private readonly capabilities: ClientCapabilities) {}

  get needsInput (): boolean {
    return Object.keys(this.missing).length > 0
  }

  ask (requests: InputRequests): InputResponses {
    const found: InputResponses = {}
    for (const [key, request] of Object.entries(requests)) {
      const capability = CAPABILITY_OF[request.method]
      if (capability !== undefined && this.capabilities[capability] === undefined) {
        throw new JsonRpcError(ModernErrorCode.MissingCapability,
          `This request needs the client's "${capability}" capability, which the client did not declare`,
          { requiredCapabilities: { [capability]: {} } })
      }
      if (Object.hasOwn(this.answers, key)) {
        found[key] = this.answers[key]
        this.used[key] = this.answers[key]
      } else {
        this.missing[key] = request
      }
    }
    if (this.needsInput) throw new InputRequired()
    return found
  }
}

/** Checks the client's `inputResponses`: each answer is the result object of the request it answers. */
export function readInputResponses (value: unknown): InputResponses {
  if (value === undefined) return {}
  if (!isObjectValue(value)) throw new JsonRpcError(ErrorCode.InvalidParams, '"inputResponses" must be an object mapping each input request key to the client\'s answer')
  for (const [key, answer] of Object.entries(value)) {
    if (!isObjectValue(answer)) throw new JsonRpcError(ErrorCode.InvalidParams, `inputResponses[${quoteValue(key)}] must be an object: the result of that input request`)
  }
  return value as InputResponses
}
