import { ErrorCode, JsonRpcError, isObjectValue, quoteValue } from '../jsonrpc.js'
import type { InputResponses } from '../input-requests.js'

/** Thrown out of `ctx.elicit()` and friends when the answer is not in this round: the request ends input-required. */
export class InputRequired extends Error {
  constructor () {
    super('The client must answer input requests before this call can finish')
    this.name = 'InputRequired'
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
