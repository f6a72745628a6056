import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHmac, createPublicKey } from 'node:crypto'
import { createSigningKey, useAuthorizationServer, type AuthorizationServer } from '../helpers/authorization-server.js'
import { registerPublicClient, type PublicClient } from '../helpers/oauth-tokens.js'
import { challengeParams, rawRequest, startOAuthApp, type OAuthApp } from '../helpers/oauth-app.js'
import { MCP_HEADERS, post, rpc } from '../helpers/raw-http.js'

const authorizationServer = useAuthorizationServer()
let as: AuthorizationServer
let client: PublicClient

before(async () => {
  as = await authorizationServer()
  client = await registerPublicClient(as)
})

const now = (): number => Math.floor(Date.now() / 1000)
const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')

/** Claims of a token this server would accept; each row spoils one thing. */
function goodClaims (app: OAuthApp): Record<string, unknown> {
  return { iss: as.issuer, aud: app.resource, sub: 'mallory', client_id: 'some-client', scope: 'mcp:tools', exp: now() + 300, iat: now() }
}

/** An HMAC over header.payload keyed with the identity provider's public key: the classic algorithm confusion. */
function hs256WithPublicKey (claims: Record<string, unknown>): string {
  const pem = createPublicKey({ key: as.signingKey.publicJwk as Record<string, string>, format: 'jwk' }).export({ type: 'spki', format: 'pem' })
  const input = `${b64({ alg: 'HS256', typ: 'at+jwt', kid: as.signingKey.kid })}.${b64(claims)}`
  return `${input}.${createHmac('sha256', pem).update(input).digest('base64url')}`
}

interface Row {
  name: string
  token: (app: OAuthApp) => Promise<string> | string
  /** What the error_description says, in part. */
  says: RegExp
}

const ROWS: Row[] = [
  { name: 'expired', token: async (app) => await as.sign({ ...goodClaims(app), exp: now() - 60, iat: now() - 400 }), says: /expired/ },
  { name: 'not yet valid', token: async (app) => await as.sign({ ...goodClaims(app), nbf: now() + 600 }), says: /not valid yet/ },
  { name: 'without an expiry', token: async (app) => await as.sign({ ...goodClaims(app), exp: undefined }), says: /exp/ },
  { name: 'from another issuer', token: async (app) => await as.sign({ ...goodClaims(app), iss: 'http://127.0.0.1:9/other-issuer' }), says: /another issuer/ },
  { name: 'for another audience', token: async (app) => await as.sign({ ...goodClaims(app), aud: 'https://elsewhere.example/api' }), says: /another resource/ },
  {
    name: 'issued by the real flow for another resource',
    token: async () => (await client.authorize('http://127.0.0.1:9/another-mcp', 'mcp:tools')).access_token,
    says: /another resource/
  },
  { name: 'alg none', token: (app) => `${b64({ alg: 'none', typ: 'at+jwt' })}.${b64(goodClaims(app))}.`, says: /algorithm "none" is not accepted/ },
  { name: 'HS256 keyed with the public key', token: (app) => hs256WithPublicKey(goodClaims(app)), says: /algorithm "HS256" is not accepted/ },
  {
    name: 'signed by a key the identity provider never had',
    token: async (app) => await as.sign(goodClaims(app), { key: await createSigningKey('stranger') }),
    says: /kid is unknown|no key/
  },
  {
    name: 'signed by a stranger under a known kid',
    token: async (app) => await as.sign(goodClaims(app), { key: { ...await createSigningKey('x'), kid: as.signingKey.kid } }),
    says: /signature does not verify/
  },
  { name: 'of a type that is not an access token', token: async (app) => await as.sign(goodClaims(app), { header: { typ: 'dpop+jwt' } }), says: /not an access token/ },
  { name: 'bound to a key (cnf)', token: async (app) => await as.sign({ ...goodClaims(app), cnf: { jkt: 'abc' } }), says: /bearer tokens only/ },
  { name: 'without subject or client', token: async (app) => await as.sign({ ...goodClaims(app), sub: undefined, client_id: undefined }), says: /neither a subject/ },
  { name: 'garbage', token: () => 'not-a-token-at-all', says: /not a JWT/ },
  { name: 'three garbage segments', token: () => 'abc.def.ghi', says: /well-formed/ },
  { name: 'a JWT with its payload tampered', token: async (app) => { const [h, , s] = (await as.sign(goodClaims(app))).split('.'); return `${h}.${b64({ ...goodClaims(app), sub: 'admin' })}.${s}` }, says: /signature does not verify/ }
]

describe('bad tokens over a real socket: 401 invalid_token with the challenge, and the server keeps serving', () => {
  let app: OAuthApp
  let goodToken: string

  const cleanups: Array<() => Promise<void>> = []
  after(async () => { for (const cleanup of cleanups) await cleanup() })
  before(async () => {
    app = await startOAuthApp({ after: (cleanup) => { cleanups.push(cleanup) } }, as.issuer)
    goodToken = (await client.authorize(app.resource, 'mcp:tools')).access_token
  })

  for (const row of ROWS) {
    test(`a token ${row.name}`, async () => {
      const token = await row.token(app)
      const refused = await post(`${app.origin}/mcp`, rpc('tools/call', { name: 'profile', arguments: {} }), { authorization: `Bearer ${token}` })
      assert.equal(refused.status, 401, refused.text)
      const params = challengeParams(refused.headers.get('www-authenticate'))
      assert.equal(params.error, 'invalid_token')
      assert.equal(params.resource_metadata, `${app.origin}/.well-known/oauth-protected-resource/mcp`)
      assert.match(params.error_description, row.says)
      assert.equal(refused.json.jsonrpc, '2.0')
      assert.equal(refused.json.error.code, -32000)
      assert.match(refused.json.error.message, /^Invalid access token: /)
      assert.ok(!refused.text.includes(token), 'the refusal does not echo the token')
      const served = await post(`${app.origin}/mcp`, rpc('ping'), { authorization: `Bearer ${goodToken}` })
      assert.equal(served.status, 200, 'the server keeps serving')
    })
  }

  test('a token in the query string gets 400 invalid_request, and the refusal log line leaves the query out', async () => {
    const refused = await post(`${app.origin}/mcp?access_token=${goodToken}`, rpc('ping'))
    assert.equal(refused.status, 400)
    const params = challengeParams(refused.headers.get('www-authenticate'))
    assert.equal(params.error, 'invalid_request')
    assert.match(refused.json.error.message, /Authorization header, never in the URL/)
    const refusals = app.logs().filter((line) => line.msg === 'MCP request refused by bearer auth')
    assert.ok(refusals.length > 0)
    assert.ok(!JSON.stringify(refusals).includes(goodToken), 'the token in the URL is not in our log line')
  })

  test('two Authorization headers get 400 invalid_request', async () => {
    const refused = await rawRequest(`${app.origin}/mcp`, 'POST', [
      ...Object.entries(MCP_HEADERS),
      ['authorization', `Bearer ${goodToken}`],
      ['authorization', 'Bearer something-else']
    ], JSON.stringify(rpc('ping')))
    assert.equal(refused.status, 400)
    assert.equal(challengeParams(refused.headers['www-authenticate'] as string).error, 'invalid_request')
    assert.match(refused.json.error.message, /one Authorization header/)
  })

  test('refusals are logged with their reason and never with the token', async () => {
    const token = await as.sign({ ...goodClaims(app), exp: now() - 60 })
    await post(`${app.origin}/mcp`, rpc('ping'), { authorization: `Bearer ${token}` })
    const refusals = app.logs().filter((line) => line.msg === 'MCP request refused by bearer auth')
    assert.ok(refusals.some((line) => String(line.reason).includes('expired')))
    assert.ok(!JSON.stringify(app.logs()).includes(token))
  })
})

describe('signing keys', () => {
  test('an unknown kid makes one key-set fetch, and no other within the cooldown', async (t) => {
    const app = await startOAuthApp(t, as.issuer, { oauth: { jwksCooldownMs: 30_000 } })
    const good = (await client.authorize(app.resource, 'mcp:tools')).access_token
    // The first token fetches the keys (if start-up has not already).
    assert.equal((await post(`${app.origin}/mcp`, rpc('ping'), { authorization: `Bearer ${good}` })).status, 200)
    const fetchesBefore = as.hits.get('/jwks') ?? 0
    const stranger = await createSigningKey('unknown-kid')
    for (let i = 0; i < 3; i++) {
      const token = await as.sign(goodClaims(app), { key: stranger })
      assert.equal((await post(`${app.origin}/mcp`, rpc('ping'), { authorization: `Bearer ${token}` })).status, 401)
    }
    assert.equal((as.hits.get('/jwks') ?? 0) - fetchesBefore, 0, 'within the cooldown after start-up, made-up kids cause no fetch')
  })

  test('once the cooldown has passed, an unknown kid is looked up again exactly once', async (t) => {
    const app = await startOAuthApp(t, as.issuer, { oauth: { jwksCooldownMs: 200 } })
    const good = (await client.authorize(app.resource, 'mcp:tools')).access_token
    assert.equal((await post(`${app.origin}/mcp`, rpc('ping'), { authorization: `Bearer ${good}` })).status, 200)
    await new Promise((resolve) => setTimeout(resolve, 250))
    const fetchesBefore = as.hits.get('/jwks') ?? 0
    const stranger = await createSigningKey('unknown-kid')
    for (let i = 0; i < 3; i++) {
      const token = await as.sign(goodClaims(app), { key: stranger })
      assert.equal((await post(`${app.origin}/mcp`, rpc('ping'), { authorization: `Bearer ${token}` })).status, 401)
    }
    assert.equal((as.hits.get('/jwks') ?? 0) - fetchesBefore, 1, 'one fetch for three tokens with an unknown kid')
  })

  test('after key rotation, tokens of the new key are accepted and the key gone from the set is refused', async (t) => {
    const app = await startOAuthApp(t, as.issuer)
    const oldToken = (await client.authorize(app.resource, 'mcp:tools')).access_token
    assert.equal((await post(`${app.origin}/mcp`, rpc('ping'), { authorization: `Bearer ${oldToken}` })).status, 200)
    await as.rotateKeys(false)
    const newToken = (await client.authorize(app.resource, 'mcp:tools')).access_token
    const fresh = await post(`${app.origin}/mcp`, rpc('ping'), { authorization: `Bearer ${newToken}` })
    assert.equal(fresh.status, 200, 'the new kid is fetched on first sight')
    const stale = await post(`${app.origin}/mcp`, rpc('ping'), { authorization: `Bearer ${oldToken}` })
    assert.equal(stale.status, 401, 'a token verified (and cached) before the rotation is refused once its key is gone')
    assert.match(challengeParams(stale.headers.get('www-authenticate')).error_description, /kid is unknown|no key/)
  })

  test('a rotation that keeps the old key published keeps old tokens working', async (t) => {
    const app = await startOAuthApp(t, as.issuer)
    const oldToken = (await client.authorize(app.resource, 'mcp:tools')).access_token
    await as.rotateKeys(true)
    const newToken = (await client.authorize(app.resource, 'mcp:tools')).access_token
    assert.equal((await post(`${app.origin}/mcp`, rpc('ping'), { authorization: `Bearer ${newToken}` })).status, 200)
    assert.equal((await post(`${app.origin}/mcp`, rpc('ping'), { authorization: `Bearer ${oldToken}` })).status, 200)
  })
})
