import { createHash } from 'node:crypto'
import { ErrorCode, JsonRpcError, type JsonRpcRequest } from '../jsonrpc.js'
import type { CallEnv } from '../call-env.js'
import type { InputResponses } from '../input-requests.js'
import type { RequestStateSigner } from './request-state.js'

/** How long a client may take to answer an input round (a person may be filling in a form). */
export const REQUEST_STATE_TTL_MS = 10 * 60_000

/**
 * What the signed `requestState` of an input round carries: the request it belongs to (method, tool name or URI,
 * a digest of the arguments), who may continue it (the caller's identity), until when, the keys of every input
 * request asked so far, and the answers already used.
 */
export interface InputState {
  m: string
  n: unknown
  /** The caller's identity id; null without auth. */
  i: string | null
  /** sha256 of the arguments as canonical JSON (keys sorted), base64url. */
  d: string
  /** Expiry, in ms since the epoch. */
  x: number
  /** Keys of the input requests asked in this request's rounds so far. */
  q: string[]
  a: InputResponses
}

/** JSON with object keys sorted, so that a client that re-serialises its arguments in another order still matches. */
function canonicalJson (value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (typeof value === 'object' && value !== null) {
    const entries = Object.keys(value).sort().map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`)
    return `{${entries.join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

function argumentsDigest (request: JsonRpcRequest): string {
  return createHash('sha256').update(canonicalJson(request.params?.arguments ?? null)).digest('base64url')
}

const targetOf = (request: JsonRpcRequest): unknown => request.params?.name ?? request.params?.uri
const identityOf = (env: CallEnv): string | null => env.auth?.id ?? null

function invalid (why: string): JsonRpcError {
  return new JsonRpcError(ErrorCode.InvalidParams, `Invalid requestState: ${why}; start the request again without requestState and inputResponses`)
}

/**
 * The answers a round may use: those the signed `requestState` carries plus the client's `inputResponses`, after
 * checking that the state is ours, unexpired, issued to this caller for this very request (method, target,
 * arguments). Responses to input requests this server did not ask are left out.
 */
export function resumeInputRound (signer: RequestStateSigner, request: JsonRpcRequest, env: CallEnv, responses: InputResponses): { answers: InputResponses, asked: string[] } {
  const token = request.params?.requestState
  let state: InputState | undefined
  if (token !== undefined) {
    state = typeof token === 'string' ? signer.verify(token) as InputState | undefined : undefined
    if (state === undefined || state.m !== request.method || state.n !== targetOf(request)) throw invalid('it was altered or belongs to another request')
    if (state.i !== identityOf(env)) throw invalid('it was issued to another caller')
    if (state.d !== argumentsDigest(request)) throw invalid('it was issued for other arguments')
    if (!(state.x > Date.now())) throw invalid(`it expired (input rounds must be answered within ${REQUEST_STATE_TTL_MS / 60_000} minutes)`)
  }
  const asked = state?.q ?? []
  // Answers to input requests this server did not ask in this request's rounds are ignored, never used: the spec
  // says to ignore what a server does not recognise, and a round then asks again for what it still lacks.
  const solicited: InputResponses = {}
  for (const key of asked) if (Object.hasOwn(responses, key)) solicited[key] = responses[key]
  return { answers: { ...state?.a, ...solicited }, asked }
}

/** The signed `requestState` of a round that ends input_required. */
export function issueRequestState (signer: RequestStateSigner, request: JsonRpcRequest, env: CallEnv, asked: string[], missing: string[], used: InputResponses): string {
  const state: InputState = {
    m: request.method,
    n: targetOf(request),
    i: identityOf(env),
    d: argumentsDigest(request),
    x: Date.now() + REQUEST_STATE_TTL_MS,
    q: [...new Set([...asked, ...missing])],
    a: used
  }
  return signer.sign(state)
}
