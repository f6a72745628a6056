import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { decodeJwt, decodeProtectedHeader } from 'jose'
import { useAuthorizationServer, type AuthorizationServer } from '../helpers/authorization-server.js'
import { registerPublicClient, type PublicClient } from '../helpers/oauth-tokens.js'
import { challengeParams, startOAuthApp, type OAuthApp } from '../helpers/oauth-app.js'
import { post, rpc } from '../helpers/raw-http.js'

/**
 * Tokens real identity providers send that RFC 9068 alone would not predict: a header `typ` of `JWT` or none, and an
 * `aud` that is not the resource URL (an Auth0 API identifier, an Entra application ID URI) with `oauth.audience`.
 */

const authorizationServer = useAuthorizationServer()
let as: AuthorizationServer
let client: PublicClient

before(async () => {
  as = await authorizationServer()
  client = await registerPublicClient(as)
})

const now = (): number => Math.floor(Date.now() / 1000)
const profile = rpc('tools/call', { name: 'profile', arguments: {} })
const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` })

function claims (app: OAuthApp, sub: string): Record<string, unknown> {
  return { iss: as.issuer, aud: app.resource, sub, client_id: 'some-client', scope: 'mcp:tools', exp: now() + 300, iat: now() }
}

/** Asserts a 401 for a token that was sent: invalid_token, the metadata URL, the scopes, and why. */
function assertInvalidToken (app: OAuthApp, response: Awaited<ReturnType<typeof post>>, says: RegExp): void {
  assert.equal(response.status, 401, response.text)
  const params = challengeParams(response.headers.get('www-authenticate'))
  assert.equal(params.error, 'invalid_token')
  assert.equal(params.resource_metadata, `${app.origin}/.well-known/oauth-protected-resource/mcp`)
  assert.equal(params.scope, 'mcp:tools')
  assert.match(params.error_description, says)
  assert.equal(response.json.error.code, -32000)
  assert.match(response.json.error.message, /^Invalid access token: /)
}

describe('the header typ of JWT access tokens', () => {
  let app: OAuthApp
  const cleanups: Array<() => Promise<void>> = []
  after(async () => { for (const cleanup of cleanups) await cleanup() })
  before(async () => {
    app = await startOAuthApp({ after: (cleanup) => { cleanups.push(cleanup) } }, as.issuer, { oauth: { scopes: ['mcp:tools'] } })
  })

  // What each provider puts in the header: RFC 9068 says at+jwt, most providers send JWT, some send nothing.
  const ACCEPTED: Array<{ who: string, typ: string | undefined }> = [
    { who: 'RFC 9068', typ: 'at+jwt' },
    { who: 'RFC 9068, media type form', typ: 'application/at+jwt' },
    { who: 'Auth0 and Entra ID', typ: 'JWT' },
    { who: 'a provider that spells it in lower case', typ: 'jwt' },
    { who: 'a provider that sends no typ', typ: undefined }
  ]

  for (const { who, typ } of ACCEPTED) {
    test(`typ ${typ ?? '(absent)'} (${who}) is accepted`, async () => {
      const subject = `typ-${typ ?? 'none'}`
      const token = await as.sign(claims(app, subject), { header: { typ } })
      assert.equal(decodeProtectedHeader(token).typ, typ, 'the token carries the typ under test')
      assert.ok(typ !== undefined || !('typ' in decodeProtectedHeader(token)), 'no typ at all in the header')
      const response = await post(`${app.origin}/mcp`, profile, bearer(token))
      assert.equal(response.status, 200, response.text)
      assert.equal(response.json.result.structuredContent.auth.subject, subject)
    })
  }

  test('a typ of another kind of JWT (an ID token\'s or a logout token\'s) is refused', async () => {
    for (const typ of ['logout+jwt', 'secevent+jwt', 'id_token+jwt']) {
      const response = await post(`${app.origin}/mcp`, profile, bearer(await as.sign(claims(app, 'someone'), { header: { typ } })))
      assert.equal(response.status, 401, typ)
      assert.match(challengeParams(response.headers.get('www-authenticate')).error_description, /not an access token \(expected at\+jwt or JWT\)/)
    }
  })
})

describe('oauth.audience: an aud that is not the resource URL', () => {
  const API_IDENTIFIER = 'https://api.example.com/mcp'

  test('with oauth.audience, a token the identity provider issued for that audience is accepted', async (t) => {
    const app = await startOAuthApp(t, as.issuer, { oauth: { scopes: ['mcp:tools'], audience: API_IDENTIFIER } })
    // The client asks for the API identifier as its resource (RFC 8707), as an Auth0 tenant would have it.
    const tokens = await client.authorize(API_IDENTIFIER, 'mcp:tools')
    assert.equal(decodeJwt(tokens.access_token).aud, API_IDENTIFIER)
    const response = await post(`${app.origin}/mcp`, profile, bearer(tokens.access_token))
    assert.equal(response.status, 200, response.text)
    assert.equal(response.json.result.structuredContent.auth.subject, 'alice')
  })

  test('without oauth.audience, the same token gets 401 invalid_token with the challenge', async (t) => {
    const app = await startOAuthApp(t, as.issuer, { oauth: { scopes: ['mcp:tools'] } })
    const tokens = await client.authorize(API_IDENTIFIER, 'mcp:tools')
    const response = await post(`${app.origin}/mcp`, profile, bearer(tokens.access_token))
    assertInvalidToken(app, response, /meant for another resource/)
    assert.ok(!response.text.includes(tokens.access_token))
  })

  test('oauth.audience replaces the resource URL: a token for the resource URL alone is refused', async (t) => {
    const app = await startOAuthApp(t, as.issuer, { oauth: { scopes: ['mcp:tools'], audience: API_IDENTIFIER } })
    const tokens = await client.authorize(app.resource, 'mcp:tools')
    assert.equal(decodeJwt(tokens.access_token).aud, app.resource)
    assertInvalidToken(app, await post(`${app.origin}/mcp`, profile, bearer(tokens.access_token)), /meant for another resource/)
  })

  test('a list of audiences: a token passes when one of its audiences is listed (an Entra application ID URI here)', async (t) => {
    const app = await startOAuthApp(t, as.issuer, { oauth: { scopes: ['mcp:tools'], audience: [API_IDENTIFIER, 'api://mcp-host'] } })
    const accepted = await as.sign({ ...claims(app, 'entra-user'), aud: ['https://graph.example.com', 'api://mcp-host'] }, { header: { typ: 'JWT' } })
    const response = await post(`${app.origin}/mcp`, profile, bearer(accepted))
    assert.equal(response.status, 200, response.text)
    assert.equal(response.json.result.structuredContent.auth.subject, 'entra-user')
    const foreign = await as.sign({ ...claims(app, 'entra-user'), aud: ['https://graph.example.com', 'api://another-host'] }, { header: { typ: 'JWT' } })
    assertInvalidToken(app, await post(`${app.origin}/mcp`, profile, bearer(foreign)), /meant for another resource/)
  })
})
