import { createHash, randomBytes } from 'node:crypto'
import { registerClient, type AuthorizationServer } from './authorization-server.js'

export const REDIRECT_URI = 'http://127.0.0.1/oauth/callback'

export interface TokenSet {
  access_token: string
  refresh_token?: string
  scope?: string
  expires_in?: number
  token_type: string
}

export interface PublicClient {
  clientId: string
  /** Runs authorization code + PKCE with a resource indicator through the scripted consent, then the token request. */
  authorize: (resource: string, scope: string) => Promise<TokenSet>
  refresh: (refreshToken: string, resource?: string) => Promise<TokenSet>
}

async function tokenRequest (as: AuthorizationServer, params: Record<string, string>, authorization?: string): Promise<TokenSet> {
  const response = await fetch(`${as.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(authorization === undefined ? {} : { authorization }) },
    body: new URLSearchParams(params).toString()
  })
  const body = await response.json() as TokenSet & { error?: string, error_description?: string }
  if (response.status !== 200) throw new Error(`token request failed: ${response.status} ${body.error ?? ''} ${body.error_description ?? ''}`)
  return body
}

/** A public client registered dynamically, as a hosted assistant's connector would be. */
export async function registerPublicClient (as: AuthorizationServer, name = 'raw-test-client'): Promise<PublicClient> {
  const { client_id: clientId } = await registerClient(as.issuer, {
    client_name: name,
    redirect_uris: [REDIRECT_URI],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    application_type: 'native'
  })
  return {
    clientId,
    async authorize (resource, scope) {
      const verifier = randomBytes(32).toString('base64url')
      const url = new URL(`${as.issuer}/auth`)
      url.search = new URLSearchParams({
        client_id: clientId,
        response_type: 'code',
        redirect_uri: REDIRECT_URI,
        scope,
        resource,
        state: randomBytes(8).toString('hex'),
        code_challenge: createHash('sha256').update(verifier).digest('base64url'),
        code_challenge_method: 'S256',
        prompt: 'consent'
      }).toString()
      const answer = await as.authorize(url)
      const code = answer.get('code')
      if (code === null) throw new Error(`no code: ${answer.toString()}`)
      return await tokenRequest(as, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, client_id: clientId, code_verifier: verifier, resource })
    },
    async refresh (refreshToken, resource) {
      return await tokenRequest(as, {
        grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId, ...(resource === undefined ? {} : { resource })
      })
    }
  }
}

/** Client credentials: a token for a confidential client acting on its own behalf. */
export async function clientCredentialsToken (as: AuthorizationServer, client: { clientId: string, clientSecret: string }, resource: string, scope: string): Promise<TokenSet> {
  const basic = `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`
  return await tokenRequest(as, { grant_type: 'client_credentials', resource, scope }, basic)
}
