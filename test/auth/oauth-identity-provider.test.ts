import { before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createSigningKey, INTROSPECTOR, useAuthorizationServer, type AuthorizationServer } from '../helpers/authorization-server.js'
import { registerPublicClient, type PublicClient } from '../helpers/oauth-tokens.js'
import { challengeParams, startOAuthApp } from '../helpers/oauth-app.js'
import { post, rpc } from '../helpers/raw-http.js'
import { waitFor } from '../helpers/sse-client.js'

const authorizationServer = useAuthorizationServer()
let as: AuthorizationServer
let client: PublicClient

before(async () => {
  as = await authorizationServer()
  client = await registerPublicClient(as)
})

const ping = rpc('ping')
const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` })
const outageWarnings = (logs: Array<Record<string, unknown>>): number => logs.filter((line) => String(line.msg).startsWith('Identity provider unreachable')).length

describe('when the identity provider is down', () => {
  test('a server that starts while it is down starts anyway, answers 503 (not 401) meanwhile, and recovers', async (t) => {
    const probe = await startOAuthApp(t, as.issuer)
    const token = (await client.authorize(probe.resource, 'mcp:tools')).access_token
    await probe.app.close()
    as.setDown(true)
    t.after(() => { as.setDown(false) })
    // Same port, so the token's audience still fits.
    const app = await startOAuthApp(t, as.issuer, { resourcePath: new URL(probe.resource).pathname, port: Number(new URL(probe.origin).port) })
    await waitFor('the outage warning', () => outageWarnings(app.logs()) === 1, 5_000)
    for (let i = 0; i < 3; i++) {
      const refused = await post(`${app.origin}/mcp`, ping, bearer(token))
      assert.equal(refused.status, 503)
      assert.equal(refused.headers.get('retry-after'), '5')
      assert.equal(refused.json.error.code, -32000)
      assert.match(refused.json.error.message, /identity provider .* cannot be reached/)
    }
    assert.equal(outageWarnings(app.logs()), 1, 'one warning per outage, however many requests hit it')
    as.setDown(false)
    await waitFor('the identity provider to be found again', async () => (await post(`${app.origin}/mcp`, ping, bearer(token))).status === 200, 5_000)
    assert.ok(app.logs().some((line) => line.msg === 'Identity provider reachable again'))
  })

  test('tokens signed with keys already fetched keep working, even once the keys are due for a refresh', async (t) => {
    const app = await startOAuthApp(t, as.issuer, { oauth: { jwksMaxAgeMs: 1_000 } })
    const first = (await client.authorize(app.resource, 'mcp:tools')).access_token
    const second = (await client.authorize(app.resource, 'mcp:tools')).access_token
    assert.equal((await post(`${app.origin}/mcp`, ping, bearer(first))).status, 200)
    as.setDown(true)
    t.after(() => { as.setDown(false) })
    await new Promise((resolve) => setTimeout(resolve, 1_100))
    // A token not seen before (so not from the verification cache), verified with the stale keys.
    assert.equal((await post(`${app.origin}/mcp`, ping, bearer(second))).status, 200)
    assert.equal((await post(`${app.origin}/mcp`, ping, bearer(second))).status, 200)
  })

  test('a token whose key is unknown gets 503 while the keys cannot be fetched, 401 once they can', async (t) => {
    const app = await startOAuthApp(t, as.issuer)
    const good = (await client.authorize(app.resource, 'mcp:tools')).access_token
    assert.equal((await post(`${app.origin}/mcp`, ping, bearer(good))).status, 200)
    const stranger = await as.sign({ iss: as.issuer, aud: app.resource, sub: 'x', exp: Math.floor(Date.now() / 1000) + 60 }, { key: await createSigningKey('new-kid') })
    as.setDown(true)
    t.after(() => { as.setDown(false) })
    const unknown = await post(`${app.origin}/mcp`, ping, bearer(stranger))
    assert.equal(unknown.status, 503)
    assert.ok(unknown.headers.get('retry-after') !== null)
    as.setDown(false)
    await new Promise((resolve) => setTimeout(resolve, 1_100))
    const refused = await post(`${app.origin}/mcp`, ping, bearer(stranger))
    assert.equal(refused.status, 401)
    assert.equal(challengeParams(refused.headers.get('www-authenticate')).error, 'invalid_token')
  })
})

describe('opaque tokens (RFC 7662 introspection)', () => {
  test('an opaque token is introspected with the server\'s client credentials, then remembered until it expires', async (t) => {
    as.accessTokenFormat = 'opaque'
    t.after(() => { as.accessTokenFormat = 'jwt' })
    const app = await startOAuthApp(t, as.issuer, { oauth: { introspection: INTROSPECTOR } })
    const tokens = await client.authorize(app.resource, 'mcp:tools deploy:write')
    assert.ok(!tokens.access_token.includes('.'), 'an opaque token, not a JWT')
    const before = as.hits.get('/token/introspection') ?? 0
    const deployed = await post(`${app.origin}/mcp`, rpc('tools/call', { name: 'profile', arguments: {} }), bearer(tokens.access_token))
    assert.equal(deployed.status, 200, deployed.text)
    const auth = deployed.json.result.structuredContent.auth
    assert.equal(auth.subject, 'alice')
    assert.deepEqual(auth.scopes, ['mcp:tools', 'deploy:write'])
    assert.equal((await post(`${app.origin}/mcp`, ping, bearer(tokens.access_token))).status, 200)
    assert.equal((as.hits.get('/token/introspection') ?? 0) - before, 1, 'asked once, then remembered')
    // Remembered answers keep serving through an outage; a token never seen gets 503.
    const other = await client.authorize(app.resource, 'mcp:tools')
    as.setDown(true)
    t.after(() => { as.setDown(false) })
    assert.equal((await post(`${app.origin}/mcp`, ping, bearer(tokens.access_token))).status, 200)
    assert.equal((await post(`${app.origin}/mcp`, ping, bearer(other.access_token))).status, 503)
  })

  test('an opaque token the identity provider does not know gets 401', async (t) => {
    const app = await startOAuthApp(t, as.issuer, { oauth: { introspection: INTROSPECTOR } })
    const refused = await post(`${app.origin}/mcp`, ping, bearer('opaque-token-nobody-issued'))
    assert.equal(refused.status, 401)
    assert.match(challengeParams(refused.headers.get('www-authenticate')).error_description, /not active/)
  })

  test('wrong introspection credentials are the server\'s fault: 503 and a log line that says what to fix', async (t) => {
    const app = await startOAuthApp(t, as.issuer, { oauth: { introspection: { clientId: INTROSPECTOR.clientId, clientSecret: 'wrong-secret' } } })
    const refused = await post(`${app.origin}/mcp`, ping, bearer('some-opaque-token'))
    assert.equal(refused.status, 503)
    await waitFor('the warning', () => app.logs().some((line) => String(line.reason).includes('client credentials')), 2_000)
  })
})
