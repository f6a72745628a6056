import { decodeProtectedHeader, errors, jwtVerify, type JWTPayload, type ProtectedHeaderParameters } from 'jose'
import { UnknownKeyError, type KeySet } from './key-set.js'

/** A token refused for a reason that is safe to log and to tell the client (it never quotes the token). */
export class TokenRefusedError extends Error {
  override readonly name = 'TokenRefusedError'
}

export interface VerifiedJwt {
  claims: JWTPayload
  /** Which fetch of the key set verified it. */
  keyGeneration: number
}

export interface JwtVerifierOptions {
  issuer: string
  audiences: readonly string[]
  algorithms: readonly string[]
  clockToleranceSeconds: number
  keys: KeySet
}

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/

/** Three base64url segments: worth decoding as a JWT (anything else is an opaque token). */
export function looksLikeJwt (token: string): boolean {
  return JWT_SHAPE.test(token)
}

/** RFC 9068's `at+jwt`, and the plain `JWT` most identity providers (Auth0, Entra, Keycloak) put in access tokens. */
const ACCEPTED_TYPES = new Set(['at+jwt', 'application/at+jwt', 'jwt'])

function shortValue (value: unknown): string {
  return JSON.stringify(String(value).slice(0, 32))
}

function checkHeader (header: ProtectedHeaderParameters, algorithms: readonly string[]): void {
  if (typeof header.alg !== 'string' || !algorithms.includes(header.alg)) {
    throw new TokenRefusedError(`the token's signing algorithm ${shortValue(header.alg)} is not accepted (accepted: ${algorithms.join(', ')})`)
  }
  if (header.typ !== undefined && !ACCEPTED_TYPES.has(String(header.typ).toLowerCase())) {
    throw new TokenRefusedError(`the token's type ${shortValue(header.typ)} is not an access token (expected at+jwt or JWT)`)
  }
}

/** Claims any access token must pass here, however it was checked (JWT or introspection). */
export function checkBearerClaims (claims: Record<string, unknown>): void {
  if (typeof claims.sub !== 'string' && typeof claims.client_id !== 'string') {
    throw new TokenRefusedError('the token names neither a subject (sub) nor a client (client_id)')
  }
  // A sender-constrained token (DPoP, mTLS) is only good with proof of its key, which a bearer request lacks.
  if (claims.cnf !== undefined) throw new TokenRefusedError('the token is bound to a key (cnf): this server accepts bearer tokens only')
}

/** What a jose error means to the caller, in words. */
function refusalFor (error: unknown): Error {
  if (error instanceof errors.JWTExpired) return new TokenRefusedError('the token has expired')
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case 'nbf': return new TokenRefusedError('the token is not valid yet (nbf is in the future)')
      case 'iss': return new TokenRefusedError('the token was issued by another issuer')
      case 'aud': return new TokenRefusedError('the token is meant for another resource (its audience is not this server)')
      case 'exp': return new TokenRefusedError('the token has no valid expiry (exp)')
      case 'iat': return new TokenRefusedError('the token\'s issue time (iat) is not valid')
      default: return new TokenRefusedError(`the token's ${shortValue(error.claim)} claim is not valid`)
    }
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return new TokenRefusedError('the token\'s signature does not verify')
  if (error instanceof errors.JOSEAlgNotAllowed) return new TokenRefusedError('the token\'s signing algorithm is not accepted')
  if (error instanceof errors.JOSEError) return new TokenRefusedError('the token is not a well-formed signed JWT')
  return error instanceof Error ? error : new Error(String(error))
}

/**
 * Verifies a JWT access token: an accepted asymmetric algorithm (so never `none`, never an HMAC keyed with a
 * public key), a signature by one of the issuer's current keys, `iss` exactly the issuer, an `aud` of this
 * server, `exp` present and not passed, `nbf` honoured, a subject or client id. Throws TokenRefusedError
 * (401), IdpUnavailableError (503) when the keys cannot be had, or anything unexpected.
 */
export function createJwtVerifier (options: JwtVerifierOptions): (token: string) => Promise<VerifiedJwt> {
  const verifyOptions = {
    issuer: options.issuer,
    audience: [...options.audiences],
    algorithms: [...options.algorithms],
    clockTolerance: options.clockToleranceSeconds,
    requiredClaims: ['exp']
  }

  return async function verifyJwt (token) {
    let header: ProtectedHeaderParameters
    try {
      header = decodeProtectedHeader(token)
    } catch {
      throw new TokenRefusedError('the token is not a well-formed signed JWT')
    }
    // Before any key lookup: a token with a refused algorithm must not cause a key-set fetch.
    checkHeader(header, options.algorithms)
    let resolved
    try {
      resolved = await options.keys.resolve(header)
    } catch (error) {
      if (error instanceof UnknownKeyError) throw new TokenRefusedError(error.message)
      throw error
    }
    let lastError: unknown
    for (const key of resolved.keys) {
      try {
        const { payload } = await jwtVerify(token, key, verifyOptions)
        checkBearerClaims(payload)
        return { claims: payload, keyGeneration: resolved.generation }
      } catch (error) {
        lastError = error
        // Only a signature that does not verify may mean "another of the candidate keys".
        if (!(error instanceof errors.JWSSignatureVerificationFailed)) break
      }
    }
    throw refusalFor(lastError)
  }
}
