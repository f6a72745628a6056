import { IdpUnavailableError, describeFailure, type OutageLog } from './idp-outage.js'
import { checkBearerClaims, TokenRefusedError } from './jwt-verifier.js'

export interface IntrospectionOptions {
  /** The endpoint; asked for on each call, since it may come from discovery. */
  url: () => Promise<string>
  clientId: string
  clientSecret: string
  issuer: string
  audiences: readonly string[]
  clockToleranceSeconds: number
  timeoutMs: number
  outage: OutageLog
}

export interface IntrospectedToken {
  claims: Record<string, unknown>
  /** `exp` in ms, when the answer gave one. */
  expiresAt: number | undefined
}

/** RFC 6749 §2.3.1: client credentials in HTTP Basic are form-encoded first. */
function basicAuthorization (clientId: string, clientSecret: string): string {
  const encode = (value: string): string => encodeURIComponent(value).replace(/%20/g, '+')
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`).toString('base64')}`
}

function audiencesOf (claims: Record<string, unknown>): string[] {
  const aud = claims.aud
  if (typeof aud === 'string') return [aud]
  return Array.isArray(aud) ? aud.filter((entry): entry is string => typeof entry === 'string') : []
}

/** The checks a JWT gets, applied to an introspection answer: active, time window, issuer, audience, bearer. */
function checkAnswer (claims: Record<string, unknown>, options: IntrospectionOptions): void {
  if (claims.active !== true) throw new TokenRefusedError('the token is not active (expired, revoked or unknown to the identity provider)')
  const now = Date.now() / 1000
  const tolerance = options.clockToleranceSeconds
  if (typeof claims.exp === 'number' && claims.exp + tolerance <= now) throw new TokenRefusedError('the token has expired')
  if (typeof claims.nbf === 'number' && claims.nbf - tolerance > now) throw new TokenRefusedError('the token is not valid yet (nbf is in the future)')
  if (claims.iss !== undefined && claims.iss !== options.issuer) throw new TokenRefusedError('the token was issued by another issuer')
  if (!audiencesOf(claims).some((aud) => options.audiences.includes(aud))) {
    throw new TokenRefusedError('the token is meant for another resource (its audience is not this server)')
  }
  if (typeof claims.token_type === 'string' && claims.token_type.toLowerCase() !== 'bearer') {
    throw new TokenRefusedError('the token is not a bearer access token')
  }
  checkBearerClaims(claims)
}

/**
 * RFC 7662 token introspection for opaque access tokens, authenticated with this server's client credentials.
 * Throws TokenRefusedError (401) for a token the provider does not vouch for, IdpUnavailableError (503) when the
 * endpoint cannot be reached or refuses our credentials.
 */
export function createIntrospector (options: IntrospectionOptions): (token: string) => Promise<IntrospectedToken> {
  const authorization = basicAuthorization(options.clientId, options.clientSecret)

  async function ask (token: string): Promise<Record<string, unknown>> {
    const url = await options.url()
    let response: Response
    try {
      response = await fetch(url, {
        method: 'POST',
        redirect: 'error',
        signal: AbortSignal.timeout(options.timeoutMs),
        headers: { authorization, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString()
      })
    } catch (error) {
      throw new IdpUnavailableError(`the introspection endpoint did not answer: ${describeFailure(error)}`, { cause: error })
    }
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel()
      throw new IdpUnavailableError(`the introspection endpoint refused this server's client credentials (${response.status}): check the introspection client id and secret`)
    }
    if (response.status !== 200) {
      await response.body?.cancel()
      throw new IdpUnavailableError(`the introspection endpoint answered ${response.status}`)
    }
    try {
      const body: unknown = await response.json()
      if (typeof body !== 'object' || body === null) throw new Error('not a JSON object')
      return body as Record<string, unknown>
    } catch (error) {
      throw new IdpUnavailableError('the introspection endpoint answered with something other than a JSON object', { cause: error })
    }
  }

  return async function introspect (token) {
    let claims: Record<string, unknown>
    try {
      claims = await ask(token)
    } catch (error) {
      options.outage.failed('token introspection', error)
      throw error
    }
    options.outage.succeeded()
    checkAnswer(claims, options)
    return { claims, expiresAt: typeof claims.exp === 'number' ? claims.exp * 1000 : undefined }
  }
}
