import { before, describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js'
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js'
import {
  Client as ModernClient,
  StreamableHTTPClientTransport as ModernHttpTransport,
  UnauthorizedError as ModernUnauthorizedError
} from '@modelcontextprotocol/client'
import { useAuthorizationServer, type AuthorizationServer } from '../helpers/authorization-server.js'
import { TestOAuthProvider } from '../helpers/oauth-sdk-provider.js'
import { freePort } from '../helpers/oauth-app.js'
import { REPO_ROOT, spawnServer, type SpawnedServer } from '../helpers/spawn-server.js'
import { post, rpc } from '../helpers/raw-http.js'
import { waitFor } from './support.js'

const OAUTH_TOOLS = join(REPO_ROOT, 'dist', 'test', 'fixtures', 'oauth-tools.js')
const authorizationServer = useAuthorizationServer()
let as: AuthorizationServer

before(async () => { as = await authorizationServer() })

interface OAuthServer { server: SpawnedServer, origin: string, resource: string }

/** `node server` in OAuth mode on a port chosen first, so that MCP_RESOURCE_URL can name it. */
async function startOAuthServer (t: TestContext, options: { resourcePath?: string, env?: Record<string, string>, args?: string[] } = {}): Promise<OAuthServer> {
  const port = await freePort()
  const origin = `http://127.0.0.1:${port}`
  const resource = `${origin}${options.resourcePath ?? '/mcp'}`
  const server = await spawnServer(t, ['--tools', OAUTH_TOOLS, '--port', String(port), ...options.args ?? []], {
    MCP_OAUTH_ISSUER: as.issuer,
    MCP_RESOURCE_URL: resource,
    ...options.env
  })
  return { server, origin, resource }
}

type ProfileResult = { structuredContent: { auth: { id: string, subject: string, scopes: string[] }, sessionId: string | null } }

describe('node server in OAuth mode with the MCP SDK clients\' own OAuth support', () => {
  test('the 1.x client goes from a 401 to a tool call by itself, then steps up for a tool that needs more scope', async (t) => {
    const { origin, resource } = await startOAuthServer(t, { env: { MCP_OAUTH_SCOPES: 'mcp:tools' } })
    const provider = new TestOAuthProvider(as, { name: 'sdk-1x', refreshTokens: false })
    const url = new URL(`${origin}/mcp`)
    // 401 → Protected Resource Metadata → authorization server metadata → registration → authorization + PKCE.
    await assert.rejects(new Client({ name: 'sdk-1x', version: '1.0.0' }).connect(new StreamableHTTPClientTransport(url, { authProvider: provider })), UnauthorizedError)
    const first = provider.authorizations[0]
    assert.equal(first.searchParams.get('scope'), 'mcp:tools', 'the scope of the 401 challenge')
    assert.equal(first.searchParams.get('resource'), resource, 'RFC 8707: the token is asked for this server')
    assert.equal(first.searchParams.get('code_challenge_method'), 'S256')
    const transport = new StreamableHTTPClientTransport(url, { authProvider: provider })
    await transport.finishAuth(await provider.takeCode())
    const client = new Client({ name: 'sdk-1x', version: '1.0.0' })
    await client.connect(transport)
    t.after(async () => { await client.close() })
    const profile = await client.callTool({ name: 'profile', arguments: {} }) as unknown as ProfileResult
    assert.equal(profile.structuredContent.auth.subject, 'alice')
    assert.deepEqual(profile.structuredContent.auth.scopes, ['mcp:tools'])

    // 403 insufficient_scope → the client authorizes again with the scopes the challenge names.
    await assert.rejects(client.callTool({ name: 'deploy', arguments: { service: 'api' } }), UnauthorizedError)
    assert.equal(provider.authorizations[1].searchParams.get('scope'), 'mcp:tools deploy:write')
    await transport.finishAuth(await provider.takeCode())
    const deployed = await client.callTool({ name: 'deploy', arguments: { service: 'api' } })
    assert.deepEqual(deployed.content, [{ type: 'text', text: 'deployed api' }])
  })

  test('the 2.x client does the same in the 2026-07-28 era, re-authorizing with the union of its scopes', async (t) => {
    const { origin } = await startOAuthServer(t, { env: { MCP_OAUTH_SCOPES: 'mcp:tools' } })
    const provider = new TestOAuthProvider(as, { name: 'sdk-2x', refreshTokens: true })
    const url = new URL(`${origin}/mcp`)
    const connect = async (): Promise<ModernClient> => {
      const client = new ModernClient({ name: 'sdk-2x', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } })
      await client.connect(new ModernHttpTransport(url, { authProvider: provider as never }))
      return client
    }
    await assert.rejects(connect(), ModernUnauthorizedError)
    const transport = new ModernHttpTransport(url, { authProvider: provider as never })
    await transport.finishAuth(await provider.takeRedirect())
    const client = new ModernClient({ name: 'sdk-2x', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } })
    await client.connect(transport)
    t.after(async () => { await client.close() })
    assert.equal(client.getProtocolEra(), 'modern')
    const notes = await client.callTool({ name: 'read_notes', arguments: {} }).catch((error: unknown) => error)
    assert.ok(notes instanceof ModernUnauthorizedError, 'read_notes needs notes:read: a step-up')
    await transport.finishAuth(await provider.takeRedirect())
    assert.deepEqual((await client.callTool({ name: 'read_notes', arguments: {} })).content, [{ type: 'text', text: 'the notes' }])
    await assert.rejects(client.callTool({ name: 'deploy', arguments: { service: 'web' } }), ModernUnauthorizedError)
    const union = new Set(provider.authorizations.at(-1)?.searchParams.get('scope')?.split(' '))
    assert.ok(union.has('notes:read') && union.has('deploy:write'), `the step-up keeps the scopes already granted: ${[...union].join(' ')}`)
    await transport.finishAuth(await provider.takeRedirect())
    assert.deepEqual((await client.callTool({ name: 'deploy', arguments: { service: 'web' } })).content, [{ type: 'text', text: 'deployed web' }])
    assert.deepEqual((await client.callTool({ name: 'read_notes', arguments: {} })).content, [{ type: 'text', text: 'the notes' }])
  })

  test('a refreshed token keeps a stateful session and a legacy SSE session, both bound to the identity', async (t) => {
    // The origin as the resource: /sse falls under it too (the SDK checks that the server URL does).
    const { server, origin } = await startOAuthServer(t, { resourcePath: '/', args: ['--stateful'] })
    as.accessTokenTtl = 1
    t.after(() => { as.accessTokenTtl = 300 })

    const statefulProvider = new TestOAuthProvider(as, { name: 'stateful', refreshTokens: true })
    const mcpUrl = new URL(`${origin}/mcp`)
    await assert.rejects(new Client({ name: 'stateful', version: '1.0.0' }).connect(new StreamableHTTPClientTransport(mcpUrl, { authProvider: statefulProvider })), UnauthorizedError)
    const statefulTransport = new StreamableHTTPClientTransport(mcpUrl, { authProvider: statefulProvider })
    await statefulTransport.finishAuth(await statefulProvider.takeCode())
    const stateful = new Client({ name: 'stateful', version: '1.0.0' })
    await stateful.connect(statefulTransport)
    t.after(async () => { await stateful.close() })

    const sseProvider = new TestOAuthProvider(as, { name: 'sse', refreshTokens: true })
    const sseUrl = new URL(`${origin}/sse`)
    await assert.rejects(new Client({ name: 'sse', version: '1.0.0' }).connect(new SSEClientTransport(sseUrl, { authProvider: sseProvider })), UnauthorizedError)
    const sseTransport = new SSEClientTransport(sseUrl, { authProvider: sseProvider })
    await sseTransport.finishAuth(await sseProvider.takeCode())
    const sse = new Client({ name: 'sse', version: '1.0.0' })
    await sse.connect(sseTransport)
    t.after(async () => { await sse.close() })

    const before = {
      stateful: (await stateful.callTool({ name: 'profile', arguments: {} }) as unknown as ProfileResult).structuredContent,
      sse: (await sse.callTool({ name: 'profile', arguments: {} }) as unknown as ProfileResult).structuredContent
    }
    assert.ok(before.stateful.sessionId !== null && before.sse.sessionId !== null)
    const oldToken = statefulProvider.accessToken as string
    await waitFor('the access tokens to expire', async () =>
      (await post(mcpUrl.href, rpc('ping'), { authorization: `Bearer ${oldToken}` })).status === 401 ? true : undefined, 15_000)

    const after = {
      stateful: (await stateful.callTool({ name: 'profile', arguments: {} }) as unknown as ProfileResult).structuredContent,
      sse: (await sse.callTool({ name: 'profile', arguments: {} }) as unknown as ProfileResult).structuredContent
    }
    assert.notEqual(statefulProvider.accessToken, oldToken, 'the client refreshed its token')
    assert.equal(statefulProvider.authorizations.length, 1, 'by refresh, without the user')
    assert.equal(sseProvider.authorizations.length, 1)
    assert.equal(after.stateful.sessionId, before.stateful.sessionId, 'the same stateful session')
    assert.equal(after.sse.sessionId, before.sse.sessionId, 'the same SSE session')
    assert.equal(after.stateful.auth.id, before.stateful.auth.id)
    assert.ok(!server.stdout().includes(oldToken), 'no token in the logs')
  })
})

describe('node server OAuth configuration', () => {
  test('an unreachable issuer at start-up is a warning, not a crash: the server listens and answers 503', async (t) => {
    const closed = await freePort()
    const { server, origin } = await startOAuthServer(t, { env: { MCP_OAUTH_ISSUER: `http://127.0.0.1:${closed}` } })
    await waitFor('the warning', () => server.stdout().includes('Identity provider unreachable') ? true : undefined)
    const response = await post(`${origin}/mcp`, rpc('ping'), { authorization: 'Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln' })
    assert.equal(response.status, 503)
    assert.ok(response.headers.get('retry-after') !== null)
    assert.equal(server.child.exitCode, null, 'still running')
  })

  test('static-token users load none of the OAuth code; OAuth mode loads it', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'mcp-oauth-loads-'))
    t.after(() => { rmSync(dir, { recursive: true, force: true }) })
    const hook = join(REPO_ROOT, 'dist', 'test', 'fixtures', 'record-loads.js')
    const loads = async (name: string, env: Record<string, string>): Promise<string[]> => {
      const record = join(dir, name)
      const server = await spawnServer(t, ['--tools', OAUTH_TOOLS], { ...env, NODE_OPTIONS: `--import=${hook}`, RECORD_LOADS_FILE: record })
      const response = await post(`${server.baseUrl}/mcp`, rpc('tools/call', { name: 'profile', arguments: {} }), { authorization: 'Bearer static-token-0123456789' })
      assert.ok(response.status === 200 || response.status === 401)
      return readFileSync(record, 'utf8').split('\n')
    }
    const jose = (line: string): boolean => line.includes('/node_modules/jose/')
    const staticOnly = await loads('static.txt', { MCP_TOKEN: 'static-token-0123456789' })
    assert.ok(staticOnly.some((line) => line.includes('/node_modules/fastify/')), 'the hooks saw Fastify load (sanity check)')
    assert.deepEqual(staticOnly.filter(jose), [], 'no jose with static tokens')
    const port = await freePort()
    const withOAuth = await loads('oauth.txt', { MCP_OAUTH_ISSUER: as.issuer, MCP_RESOURCE_URL: `http://127.0.0.1:${port}/mcp` })
    assert.ok(withOAuth.some(jose), 'jose is loaded in OAuth mode')
  })

  test('MCP_TOKEN and OAuth together: the static token is accepted, and no token is generated', async (t) => {
    const { server, origin } = await startOAuthServer(t, { env: { MCP_TOKEN: 'ci-bot-token-0123456789' } })
    const response = await post(`${origin}/mcp`, rpc('tools/call', { name: 'profile', arguments: {} }), { authorization: 'Bearer ci-bot-token-0123456789' })
    assert.equal(response.status, 200)
    assert.doesNotMatch(server.stderr(), /No MCP_TOKEN was given/)
    assert.match(server.stdout(), /"auth":"bearer\+oauth"/)
  })
})
