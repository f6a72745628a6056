import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import Fastify from 'fastify'
import { Type } from 'typebox'
import mcpPlugin, { type McpPluginOptions } from '../../plugin/index.js'
import { defineTool } from '../../plugin/core.js'
import { resolveOAuthOptions } from '../../plugin/auth/oauth/oauth-options.js'
import { bearerChallenge } from '../../plugin/auth/challenge.js'
import { challengeScopes, expandScopes, missingScopes, scopesFromClaims } from '../../plugin/auth/scopes.js'
import { metadataPaths, metadataUrlOf } from '../../plugin/auth/oauth/protected-resource-metadata.js'
import { discoveryUrls } from '../../plugin/auth/oauth/issuer-discovery.js'
import { collectOperationScopes } from '../../plugin/auth/operation-scopes.js'
import { createVerifiedTokenCache } from '../../plugin/auth/oauth/verified-token-cache.js'
import { identityFromClaims } from '../../plugin/auth/oauth/oauth-identity.js'
import oauthFixture from '../fixtures/oauth-tools.js'

const BASE = { issuer: 'https://auth.example.com', resource: 'https://mcp.example.com/mcp' }

describe('auth.oauth options', () => {
  test('defaults: the resource URI is the audience, asymmetric algorithms only, a small clock tolerance', () => {
    const resolved = resolveOAuthOptions(BASE)
    assert.deepEqual(resolved.audiences, ['https://mcp.example.com/mcp'])
    assert.ok(!resolved.algorithms.some((alg) => alg.startsWith('HS') || alg === 'none'))
    assert.equal(resolved.clockToleranceSeconds, 5)
    assert.equal(resolved.jwksCooldownMs, 30_000)
  })

  test('a resource URI without a path is accepted with and without its trailing slash', () => {
    assert.deepEqual(resolveOAuthOptions({ ...BASE, resource: 'https://mcp.example.com' }).audiences, ['https://mcp.example.com', 'https://mcp.example.com/'])
  })

  const mistakes: Array<[string, Record<string, unknown>, RegExp]> = [
    ['an issuer that is no URL', { ...BASE, issuer: 'auth.example.com' }, /auth\.oauth\.issuer must be an absolute https URL/],
    ['a plain-http issuer beyond loopback', { ...BASE, issuer: 'http://auth.example.com' }, /auth\.oauth\.issuer must use https/],
    ['a resource with a fragment', { ...BASE, resource: 'https://mcp.example.com/mcp#x' }, /auth\.oauth\.resource must not have a fragment/],
    ['no resource', { issuer: BASE.issuer }, /auth\.oauth\.resource/],
    ['HS256 in the algorithms', { ...BASE, algorithms: ['RS256', 'HS256'] }, /asymmetric algorithms only.*"HS256"/],
    ['none in the algorithms', { ...BASE, algorithms: ['none'] }, /asymmetric algorithms only.*"none"/],
    ['a scope with a space', { ...BASE, scopes: ['read write'] }, /auth\.oauth\.scopes must be an array of scope names/],
    ['a cooldown above 30 s', { ...BASE, jwksCooldownMs: 60_000 }, /auth\.oauth\.jwksCooldownMs must be a whole number from 0 to 30000/],
    ['introspection without a secret', { ...BASE, introspection: { clientId: 'x' } }, /auth\.oauth\.introspection\.clientSecret/],
    ['an implication that is not a list', { ...BASE, scopeImplications: { admin: 'deploy:write' } }, /auth\.oauth\.scopeImplications\.admin/]
  ]
  for (const [name, options, message] of mistakes) {
    test(`refused at register: ${name}`, async (t) => {
      const app = Fastify()
      t.after(async () => { await app.close() })
      await assert.rejects(async () => { await app.register(mcpPlugin, { auth: { oauth: options }, tools: [] } as unknown as McpPluginOptions).ready() },
        (error: Error & { code?: string }) => error.code === 'MCP_ERR_OPTIONS' && message.test(error.message))
    })
  }
})

describe('challenges and scopes', () => {
  test('a challenge lists only the parts given, free text last and escaped', () => {
    assert.equal(bearerChallenge({}), 'Bearer')
    assert.equal(
      bearerChallenge({ resourceMetadata: 'https://m/.well-known/oauth-protected-resource/mcp', scopes: ['a', 'b'], error: 'invalid_token', description: 'say "no" \\ twice\nnow' }),
      'Bearer error="invalid_token", scope="a b", resource_metadata="https://m/.well-known/oauth-protected-resource/mcp", error_description="say \\"no\\" \\\\ twicenow"'
    )
  })

  test('scopes come from scope, scp and scopes, and implications are followed transitively', () => {
    assert.deepEqual(scopesFromClaims({ scope: 'a b', scp: ['c'], scopes: ['d', 'a'] }), ['a', 'b', 'c', 'd'])
    assert.deepEqual(scopesFromClaims({ scp: 'x y' }), ['x', 'y'])
    const implications = new Map([['owner', ['admin']], ['admin', ['deploy:write', 'owner']]])
    assert.deepEqual([...expandScopes(['owner'], implications)].sort(), ['admin', 'deploy:write', 'owner'])
    assert.deepEqual(missingScopes(['deploy:write', 'notes:read'], expandScopes(['admin'], implications)), ['notes:read'])
  })

  test('offline_access never appears in a challenge', () => {
    assert.deepEqual(challengeScopes(['offline_access', 'a'], ['a', 'b']), ['a', 'b'])
  })
})

describe('where metadata lives', () => {
  test('the Protected Resource Metadata URL inserts the well-known segment before the resource path', () => {
    assert.equal(metadataUrlOf('https://mcp.example.com/mcp'), 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp')
    assert.equal(metadataUrlOf('https://mcp.example.com'), 'https://mcp.example.com/.well-known/oauth-protected-resource')
    assert.deepEqual(metadataPaths('https://mcp.example.com/api/mcp', ['/mcp']), [
      '/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/api/mcp', '/.well-known/oauth-protected-resource/mcp'
    ])
  })

  test('an issuer\'s metadata is looked for as RFC 8414 and OpenID Discovery say, path or not', () => {
    assert.deepEqual(discoveryUrls('https://auth.example.com/'), [
      'https://auth.example.com/.well-known/oauth-authorization-server', 'https://auth.example.com/.well-known/openid-configuration'
    ])
    assert.deepEqual(discoveryUrls('https://kc.example.com/realms/team'), [
      'https://kc.example.com/.well-known/oauth-authorization-server/realms/team',
      'https://kc.example.com/.well-known/openid-configuration/realms/team',
      'https://kc.example.com/realms/team/.well-known/openid-configuration'
    ])
  })
})

describe('scopes of operations', () => {
  const operations = collectOperationScopes(oauthFixture.tools, oauthFixture.resources, oauthFixture.prompts)

  test('tools, prompts, fixed resources and templates are looked up by what a request names', () => {
    assert.deepEqual(operations.forRequest('tools/call', { name: 'deploy' }), ['deploy:write'])
    assert.deepEqual(operations.forRequest('tools/call', { name: 'profile' }), [])
    assert.deepEqual(operations.forRequest('tools/list', {}), [])
    assert.deepEqual(operations.forRequest('resources/read', { uri: 'notes://7' }), ['notes:read'])
    assert.deepEqual(operations.forRequest('resources/subscribe', { uri: 'notes://7' }), ['notes:read'])
    assert.deepEqual(operations.forRequest('resources/read', { uri: 'docs://readme' }), [])
    assert.deepEqual(operations.forRequest('prompts/get', { name: 'release' }), ['deploy:write'])
    assert.deepEqual(operations.forRequest('completion/complete', { ref: { type: 'ref/resource', uri: 'notes://{id}' } }), ['notes:read'])
    assert.deepEqual(operations.forRequest('completion/complete', { ref: { type: 'ref/prompt', name: 'release' } }), ['deploy:write'])
    assert.deepEqual(operations.forRequest('subscriptions/listen', { notifications: { resourceSubscriptions: ['notes://1', 'docs://readme'] } }), ['notes:read'])
    assert.deepEqual(operations.forName('tools/call', 'read_notes'), ['notes:read'])
    assert.deepEqual([...operations.all].sort(), ['deploy:write', 'notes:read'])
  })

  test('a definition whose scopes are not scope names is refused at register', async (t) => {
    const app = Fastify()
    t.after(async () => { await app.close() })
    const bad = defineTool({ name: 'bad', description: 'x', input: Type.Object({}), scopes: ['two words'], handler: () => 'x' })
    await assert.rejects(async () => { await app.register(mcpPlugin, { auth: { tokens: ['t'] }, tools: [bad] }).ready() }, /Invalid tool "bad": "scopes" must be an array of scope names/)
  })
})

describe('verified-token cache', () => {
  const identity = identityFromClaims({ sub: 'a', client_id: 'c', scope: 's', exp: Math.floor(Date.now() / 1000) + 60 }, 'https://i', [])

  test('a token is remembered until it expires, and forgotten once the key set was fetched again', () => {
    const cache = createVerifiedTokenCache()
    cache.set('token-1', identity, Date.now() + 60_000, 1)
    assert.equal(cache.get('token-1', 1), identity)
    assert.equal(cache.get('token-1', 2), undefined, 'another generation of keys')
    assert.equal(cache.get('token-1', 1), undefined, 'dropped')
    cache.set('token-2', identity, Date.now() - 1, 1)
    assert.equal(cache.get('token-2', 1), undefined, 'an expired token is not kept')
    cache.set('token-3', identity, Date.now() + 60_000, undefined)
    assert.equal(cache.get('token-3', 99), identity, 'introspected tokens do not depend on keys')
  })

  test('at its size limit the oldest entry goes', () => {
    const cache = createVerifiedTokenCache(2)
    for (const token of ['a', 'b', 'c']) cache.set(token, identity, Date.now() + 60_000, 1)
    assert.equal(cache.size, 2)
    assert.equal(cache.get('a', 1), undefined)
    assert.equal(cache.get('c', 1), identity)
  })

  test('the identity names issuer, subject and client, URI-encoded so that no two callers share one', () => {
    assert.equal(identity.id, 'oauth|https://i|a|c')
    const tricky = identityFromClaims({ sub: 'a|b', client_id: 'c', exp: 1 }, 'https://i', [])
    const other = identityFromClaims({ sub: 'a', client_id: 'b|c', exp: 1 }, 'https://i', [])
    assert.notEqual(tricky.id, other.id)
  })
})
