import { before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { useAuthorizationServer, MACHINE_CLIENT, type AuthorizationServer } from '../helpers/authorization-server.js'
import { clientCredentialsToken, registerPublicClient, type PublicClient } from '../helpers/oauth-tokens.js'
import { challengeParams, rawRequest, startOAuthApp } from '../helpers/oauth-app.js'
import { post, request, rpc } from '../helpers/raw-http.js'
import { openSse } from '../helpers/sse-client.js'
import { Type } from 'typebox'
import { defineTool } from '../../plugin/index.js'

const authorizationServer = useAuthorizationServer()
let as: AuthorizationServer
let client: PublicClient

before(async () => {
  as = await authorizationServer()
  client = await registerPublicClient(as)
})

const call = (name: string, args: Record<string, unknown> = {}, id = 1): Record<string, unknown> => rpc('tools/call', { name, arguments: args }, id)
const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` })

describe('OAuth mode: who gets in', () => {
  test('a token from the authorization server is accepted, and ctx.auth carries who, not the token', async (t) => {
    const { origin, resource } = await startOAuthApp(t, as.issuer)
    const tokens = await client.authorize(resource, 'mcp:tools')
    const response = await post(`${origin}/mcp`, call('profile'), bearer(tokens.access_token))
    assert.equal(response.status, 200, response.text)
    const auth = response.json.result.structuredContent.auth
    assert.equal(auth.subject, 'alice')
    assert.equal(auth.clientId, client.clientId)
    assert.equal(auth.issuer, as.issuer)
    assert.deepEqual(auth.scopes, ['mcp:tools'])
    assert.deepEqual(auth.claims, {}, 'an access token carries no profile claims unless the identity provider adds them')
    assert.equal(auth.id, `oauth|${as.issuer}|alice|${client.clientId}`)
    assert.ok(!response.text.includes(tokens.access_token), 'the token never reaches a handler')
  })

  test('claims the options select reach ctx.auth.claims', async (t) => {
    const { origin, resource } = await startOAuthApp(t, as.issuer, { oauth: { claims: ['tenant'] } })
    const token = await as.sign({ iss: as.issuer, aud: resource, sub: 'bob', exp: Math.floor(Date.now() / 1000) + 60, tenant: 'acme', secret_claim: 'x' })
    const response = await post(`${origin}/mcp`, call('profile'), bearer(token))
    assert.deepEqual(response.json.result.structuredContent.auth.claims, { tenant: 'acme' })
  })

  test('a client-credentials token (no user) is accepted with the client as its subject', async (t) => {
    const { origin, resource } = await startOAuthApp(t, as.issuer)
    const tokens = await clientCredentialsToken(as, MACHINE_CLIENT, resource, 'mcp:tools')
    const response = await post(`${origin}/mcp`, call('profile'), bearer(tokens.access_token))
    assert.equal(response.status, 200, response.text)
    assert.equal(response.json.result.structuredContent.auth.subject, MACHINE_CLIENT.clientId)
  })

  test('a static token (a CI bot) and OAuth tokens are accepted side by side', async (t) => {
    const { origin, resource } = await startOAuthApp(t, as.issuer, { tokens: [{ token: 'ci-bot-static-token-0123', id: 'ci-bot' }] })
    const bot = await post(`${origin}/mcp`, call('profile'), bearer('ci-bot-static-token-0123'))
    assert.equal(bot.json.result.structuredContent.auth.id, 'ci-bot')
    const tokens = await client.authorize(resource, 'mcp:tools')
    const person = await post(`${origin}/mcp`, call('profile'), bearer(tokens.access_token))
    assert.equal(person.json.result.structuredContent.auth.subject, 'alice')
  })

  test('a request without a token gets 401 pointing at the metadata, with the scopes every request needs', async (t) => {
    const { origin, resource } = await startOAuthApp(t, as.issuer, { oauth: { scopes: ['mcp:tools', 'offline_access'] } })
    for (const [method, path] of [['POST', '/mcp'], ['GET', '/sse'], ['POST', '/messages?sessionId=x']]) {
      const response = method === 'POST' ? await post(`${origin}${path}`, rpc('ping')) : await request(`${origin}${path}`)
      assert.equal(response.status, 401, path)
      const params = challengeParams(response.headers.get('www-authenticate'))
      assert.equal(params.resource_metadata, `${origin}/.well-known/oauth-protected-resource/mcp`)
      assert.equal(params.scope, 'mcp:tools', 'offline_access is never asked for')
      assert.equal(params.error, undefined, 'no error code when no token was sent (RFC 6750 §3.1)')
      assert.equal(response.json.jsonrpc, '2.0')
      assert.match(response.json.error.message, /Missing credentials.*resource_metadata/)
      assert.doesNotMatch(response.json.error.message, /MCP_TOKEN/, 'plugin users are not told about node server variables')
    }
    void resource
  })

  test('a token without the scopes every request needs gets 403 insufficient_scope', async (t) => {
    const { origin, resource } = await startOAuthApp(t, as.issuer, { oauth: { scopes: ['mcp:tools'] } })
    const tokens = await client.authorize(resource, 'notes:read')
    const response = await post(`${origin}/mcp`, rpc('ping'), bearer(tokens.access_token))
    assert.equal(response.status, 403)
    const params = challengeParams(response.headers.get('www-authenticate'))
    assert.equal(params.error, 'insufficient_scope')
    assert.equal(params.scope, 'mcp:tools')
    assert.equal(params.resource_metadata, `${origin}/.well-known/oauth-protected-resource/mcp`)
    assert.equal(response.json.error.code, -32000)
  })
})

describe('OAuth mode: Protected Resource Metadata (RFC 9728)', () => {
  test('the document is served at the bare and the path-inserted well-known URL, without auth or host checks', async (t) => {
    const { origin, resource } = await startOAuthApp(t, as.issuer, { oauth: { scopes: ['mcp:tools', 'offline_access'] } })
    for (const path of ['/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/mcp']) {
      // A Host the MCP routes refuse (DNS rebinding guard): the metadata is public anyway.
      const response = await rawRequest(`${origin}${path}`, 'GET', [['host', 'attacker.example'], ['origin', 'https://app.example']])
      assert.equal(response.status, 200, path)
      assert.deepEqual(response.json, {
        resource,
        authorization_servers: [as.issuer],
        bearer_methods_supported: ['header'],
        resource_name: 'fastify-mcp-host',
        scopes_supported: ['mcp:tools', 'notes:read', 'deploy:write']
      })
      assert.equal(response.headers['access-control-allow-origin'], '*')
      assert.match(response.headers['cache-control'] ?? '', /max-age=\d+/)
    }
    const guarded = await rawRequest(`${origin}/mcp`, 'POST', [['host', 'attacker.example'], ['content-type', 'application/json']], '{}')
    assert.equal(guarded.status, 403, 'the MCP route keeps its guard')
  })

  test('a browser preflight for the metadata is answered', async (t) => {
    const { origin } = await startOAuthApp(t, as.issuer)
    const response = await request(`${origin}/.well-known/oauth-protected-resource/mcp`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'mcp-protocol-version' }
    })
    assert.equal(response.status, 204)
    assert.equal(response.headers.get('access-control-allow-origin'), '*')
    assert.equal(response.headers.get('access-control-allow-headers'), 'mcp-protocol-version')
  })

  test('with a register prefix, the path-inserted URL includes it', async (t) => {
    const { origin } = await startOAuthApp(t, as.issuer, { prefix: '/api/v1', resourcePath: '/api/v1/mcp' })
    const response = await request(`${origin}/.well-known/oauth-protected-resource/api/v1/mcp`)
    assert.equal(response.status, 200)
    assert.equal(response.json.resource, `${origin}/api/v1/mcp`)
    const refused = await post(`${origin}/api/v1/mcp`, rpc('ping'))
    assert.equal(challengeParams(refused.headers.get('www-authenticate')).resource_metadata, `${origin}/.well-known/oauth-protected-resource/api/v1/mcp`)
  })
})

describe('OAuth mode: per-operation scopes and step-up', () => {
  test('a tool that needs a scope the token lacks gets 403 naming every scope the call needs; with them it runs', async (t) => {
    const { origin, resource } = await startOAuthApp(t, as.issuer, { oauth: { scopes: ['mcp:tools'] } })
    const first = await client.authorize(resource, 'mcp:tools')
    const refused = await post(`${origin}/mcp`, call('deploy', { service: 'api' }, 7), bearer(first.access_token))
    assert.equal(refused.status, 403)
    const params = challengeParams(refused.headers.get('www-authenticate'))
    assert.equal(params.error, 'insufficient_scope')
    assert.equal(params.scope, 'mcp:tools deploy:write')
    assert.equal(params.resource_metadata, `${origin}/.well-known/oauth-protected-resource/mcp`)
    assert.equal(refused.json.id, 7)
    assert.match(refused.json.error.message, /tools\/call needs the scope deploy:write/)
    // The client re-authorizes with what the challenge asked for, and retries.
    const stepped = await client.authorize(resource, params.scope)
    const accepted = await post(`${origin}/mcp`, call('deploy', { service: 'api' }), bearer(stepped.access_token))
    assert.equal(accepted.status, 200)
    assert.equal(accepted.json.result.content[0].text, 'deployed api')
  })

  test('a tool added at run time is guarded by its scopes like the others, and the metadata lists them', async (t) => {
    const { app, origin, resource } = await startOAuthApp(t, as.issuer)
    app.mcp.addTool(defineTool({ name: 'quarterly_report', description: 'Reads the report', input: Type.Object({}), scopes: ['reports:read'], handler: () => 'the report' }))
    const tokens = await client.authorize(resource, 'mcp:tools')
    const refused = await post(`${origin}/mcp`, call('quarterly_report'), bearer(tokens.access_token))
    assert.equal(refused.status, 403)
    assert.equal(challengeParams(refused.headers.get('www-authenticate')).scope, 'reports:read')
    const metadata = await (await fetch(`${origin}/.well-known/oauth-protected-resource/mcp`)).json() as { scopes_supported: string[] }
    assert.ok(metadata.scopes_supported.includes('reports:read'), metadata.scopes_supported.join(' '))
    app.mcp.removeTool('quarterly_report')
    await new Promise((resolve) => setImmediate(resolve))
    const gone = await post(`${origin}/mcp`, call('quarterly_report'), bearer(tokens.access_token))
    assert.equal(gone.status, 200, 'a removed tool is no longer guarded: it is unknown')
    assert.match(gone.json.error.message, /Unknown tool/)
  })

  test('tools/list shows every tool, also those the caller would have to step up for', async (t) => {
    const { origin, resource } = await startOAuthApp(t, as.issuer)
    const tokens = await client.authorize(resource, 'mcp:tools')
    const listed = await post(`${origin}/mcp`, rpc('tools/list'), bearer(tokens.access_token))
    assert.deepEqual(listed.json.result.tools.map((tool: { name: string }) => tool.name), ['profile', 'read_notes', 'deploy'])
  })

  test('a configured implication lets a broader scope stand for a narrower one', async (t) => {
    const { origin, resource } = await startOAuthApp(t, as.issuer, { oauth: { scopeImplications: { admin: ['deploy:write', 'notes:read'] } } })
    const tokens = await client.authorize(resource, 'admin')
    assert.equal((await post(`${origin}/mcp`, call('deploy', { service: 'db' }), bearer(tokens.access_token))).status, 200)
    assert.equal((await post(`${origin}/mcp`, call('read_notes'), bearer(tokens.access_token))).status, 200)
  })

  test('resources and prompts with scopes are guarded too; those without are not', async (t) => {
    const { origin, resource } = await startOAuthApp(t, as.issuer)
    const tokens = await client.authorize(resource, 'mcp:tools')
    const note = await post(`${origin}/mcp`, rpc('resources/read', { uri: 'notes://42' }), bearer(tokens.access_token))
    assert.equal(note.status, 403)
    assert.equal(challengeParams(note.headers.get('www-authenticate')).scope, 'notes:read')
    const prompt = await post(`${origin}/mcp`, rpc('prompts/get', { name: 'release' }), bearer(tokens.access_token))
    assert.equal(prompt.status, 403)
    assert.equal(challengeParams(prompt.headers.get('www-authenticate')).scope, 'deploy:write')
    const readme = await post(`${origin}/mcp`, rpc('resources/read', { uri: 'docs://readme' }), bearer(tokens.access_token))
    assert.equal(readme.status, 200)
  })

  test('in the 2026-07-28 era the 403 is decided from Mcp-Method and Mcp-Name, before the body is read', async (t) => {
    const { origin, resource } = await startOAuthApp(t, as.issuer)
    const tokens = await client.authorize(resource, 'mcp:tools')
    const headers = { ...bearer(tokens.access_token), 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'deploy' }
    // Not even JSON: a body that would be a 400 parse error if it were read before the scope decision.
    const refused = await post(`${origin}/mcp`, '{not json', headers)
    assert.equal(refused.status, 403)
    assert.equal(challengeParams(refused.headers.get('www-authenticate')).scope, 'deploy:write')
    // A name in base64 form decodes to the same tool.
    const encoded = await post(`${origin}/mcp`, '{not json', { ...headers, 'mcp-name': `=?base64?${Buffer.from('deploy').toString('base64')}?=` })
    assert.equal(encoded.status, 403)
  })

  test('over legacy SSE, the 403 comes on the POST to /messages, before its 202', async (t) => {
    const { origin, resource } = await startOAuthApp(t, as.issuer)
    const tokens = await client.authorize(resource, 'mcp:tools')
    const sse = await openSse(t, origin, bearer(tokens.access_token))
    const refused = await sse.send(call('deploy', { service: 'api' }, 3), bearer(tokens.access_token))
    assert.equal(refused.status, 403)
    assert.equal(refused.json.id, 3)
    assert.equal(challengeParams(refused.headers.get('www-authenticate')).error, 'insufficient_scope')
    const accepted = await sse.send(call('profile', {}, 4), bearer(tokens.access_token))
    assert.equal(accepted.status, 202)
    const answer = await sse.nextMessage()
    assert.equal(answer.id, 4)
    assert.equal(answer.result.structuredContent.auth.subject, 'alice')
  })

  test('over legacy SSE, a handler sees the scopes of the token that posted the call, not of the one that opened the stream', async (t) => {
    const { origin, resource } = await startOAuthApp(t, as.issuer)
    const opener = await client.authorize(resource, 'mcp:tools')
    const sse = await openSse(t, origin, bearer(opener.access_token))
    const stepped = await client.authorize(resource, 'mcp:tools deploy:write')
    assert.equal((await sse.send(call('profile', {}, 5), bearer(stepped.access_token))).status, 202)
    const answer = await sse.nextMessage()
    assert.deepEqual([...answer.result.structuredContent.auth.scopes].sort(), ['deploy:write', 'mcp:tools'])
  })
})
