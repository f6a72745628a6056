import { before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { TestContext } from 'node:test'
import Fastify from 'fastify'
import mcpPlugin, { type McpPluginOptions } from '../../plugin/index.js'
import type { OAuthOptions } from '../../plugin/auth/oauth/oauth-options.js'
import { useAuthorizationServer, type AuthorizationServer } from '../helpers/authorization-server.js'
import { registerPublicClient, type PublicClient } from '../helpers/oauth-tokens.js'
import { post, rpc } from '../helpers/raw-http.js'
import oauthFixture from '../fixtures/oauth-tools.js'

const authorizationServer = useAuthorizationServer()
let as: AuthorizationServer
let client: PublicClient

before(async () => {
  as = await authorizationServer()
  client = await registerPublicClient(as)
})

interface OAuthApp { baseUrl: string, resource: string }

async function startOAuthApp (t: TestContext, oauth: Partial<OAuthOptions> = {}, extra: Partial<McpPluginOptions> = {}): Promise<OAuthApp> {
  const app = Fastify({ logger: false })
  // The resource URI names the port, known only once listening: reserve it first by listening on 0.
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }
  await app.close()
  const resource = `http://127.0.0.1:${port}/mcp`
  const real = Fastify({ logger: false })
  await real.register(mcpPlugin, {
    ...oauthFixture,
    auth: { oauth: { issuer: as.issuer, resource, jwksCooldownMs: 0, clockToleranceSeconds: 0, ...oauth } },
    ...extra
  } as McpPluginOptions)
  await real.listen({ port, host: '127.0.0.1' })
  t.after(async () => { await real.close() })
  return { baseUrl: `http://127.0.0.1:${port}`, resource }
}

const profileCall = rpc('tools/call', { name: 'profile', arguments: {} })

describe('OAuth mode of the plugin', () => {
  test('a token from the authorization server is accepted, and ctx.auth carries who, not the token', async (t) => {
    const { baseUrl, resource } = await startOAuthApp(t)
    const tokens = await client.authorize(resource, 'mcp:tools')
    const response = await post(`${baseUrl}/mcp`, profileCall, { authorization: `Bearer ${tokens.access_token}` })
    assert.equal(response.status, 200, response.text)
    const auth = response.json.result.structuredContent.auth
    assert.equal(auth.subject, 'alice')
    assert.equal(auth.clientId, client.clientId)
    assert.equal(auth.issuer, as.issuer)
    assert.deepEqual(auth.scopes, ['mcp:tools'])
    assert.equal(auth.id, `oauth|${as.issuer}|alice|${client.clientId}`)
    assert.ok(!response.text.includes(tokens.access_token), 'the token never reaches a handler')
  })
})
