import { before, describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { ConfigError, parseConfig } from '../../server/config.js'
import { oauthFromSettings } from '../../server/oauth-settings.js'
import { resolveOAuthOptions } from '../../plugin/auth/oauth/oauth-options.js'
import { useAuthorizationServer, type AuthorizationServer } from '../helpers/authorization-server.js'
import { registerPublicClient, type PublicClient } from '../helpers/oauth-tokens.js'
import { challengeParams, freePort } from '../helpers/oauth-app.js'
import { REPO_ROOT, runServer, spawnServer } from '../helpers/spawn-server.js'
import { post, rpc } from '../helpers/raw-http.js'
import { closed, exitWithin } from './support.js'

const ISSUER = 'https://auth.example.com/realms/team'
const RESOURCE = 'https://mcp.example.com/mcp'
const SECRET = 'introspector-secret-0123456789'

const fromEnv = async (env: Record<string, string>): Promise<ReturnType<typeof oauthFromSettings>> =>
  await oauthFromSettings(parseConfig([], env))

describe('MCP_OAUTH_* variables become the plugin\'s auth.oauth', () => {
  test('every variable lands on its option, and the plugin\'s own check accepts the result', async () => {
    const oauth = await fromEnv({
      MCP_OAUTH_ISSUER: ISSUER,
      MCP_RESOURCE_URL: RESOURCE,
      MCP_OAUTH_SCOPES: 'mcp:tools, notes:read',
      MCP_OAUTH_AUDIENCE: 'https://api.example.com/mcp,api://mcp-host',
      MCP_OAUTH_SCOPE_IMPLICATIONS: 'admin=deploy:write notes:read, owner=admin',
      MCP_OAUTH_INTROSPECTION_URL: 'https://auth.example.com/realms/team/introspect',
      MCP_OAUTH_CLIENT_ID: 'mcp-server',
      MCP_OAUTH_CLIENT_SECRET: SECRET
    })
    assert.deepEqual(oauth, {
      issuer: ISSUER,
      resource: RESOURCE,
      scopes: ['mcp:tools', 'notes:read'],
      audience: ['https://api.example.com/mcp', 'api://mcp-host'],
      scopeImplications: { admin: ['deploy:write', 'notes:read'], owner: ['admin'] },
      introspection: { url: 'https://auth.example.com/realms/team/introspect', clientId: 'mcp-server', clientSecret: SECRET }
    })
    const resolved = resolveOAuthOptions(oauth)
    assert.deepEqual(resolved.audiences, ['https://api.example.com/mcp', 'api://mcp-host'])
    assert.deepEqual([...resolved.scopeImplications], [['admin', ['deploy:write', 'notes:read']], ['owner', ['admin']]])
  })

  test('the two required variables alone give issuer and resource, nothing else', async () => {
    assert.deepEqual(await fromEnv({ MCP_OAUTH_ISSUER: ISSUER, MCP_RESOURCE_URL: RESOURCE }), { issuer: ISSUER, resource: RESOURCE })
  })

  test('client credentials without MCP_OAUTH_INTROSPECTION_URL leave the URL to the issuer\'s metadata', async () => {
    const oauth = await fromEnv({ MCP_OAUTH_ISSUER: ISSUER, MCP_RESOURCE_URL: RESOURCE, MCP_OAUTH_CLIENT_ID: 'mcp-server', MCP_OAUTH_CLIENT_SECRET: SECRET })
    assert.deepEqual(oauth?.introspection, { clientId: 'mcp-server', clientSecret: SECRET })
  })

  test('without MCP_OAUTH_ISSUER there is no OAuth', async () => {
    assert.equal(await fromEnv({}), undefined)
  })
})

/** Bad values, each refused in one line that starts with the variable to fix (and never shows the client secret). */
const REFUSALS: Array<{ env: Record<string, string>, says: RegExp }> = [
  ...['admin', 'admin=', '=deploy:write', 'admin=deploy:write=x', 'admin deploy:write'].map((value) => ({
    env: { MCP_OAUTH_SCOPE_IMPLICATIONS: value },
    says: /^MCP_OAUTH_SCOPE_IMPLICATIONS: ".*" is not "scope=implied implied\.\.\." \(entries separated by commas\)$/
  })),
  { env: { MCP_OAUTH_SCOPE_IMPLICATIONS: 'ad"min=deploy:write' }, says: /^MCP_OAUTH_SCOPE_IMPLICATIONS must be "scope=implied implied\.\.\." entries of scope names/ },
  { env: { MCP_OAUTH_SCOPE_IMPLICATIONS: 'admin=deploy\\write' }, says: /^MCP_OAUTH_SCOPE_IMPLICATIONS must be "scope=implied implied\.\.\." entries of scope names/ },
  { env: { MCP_OAUTH_SCOPES: 'mcp:tools,no"tes' }, says: /^MCP_OAUTH_SCOPES must be scope names separated by commas/ },
  { env: { MCP_OAUTH_AUDIENCE: ' , ' }, says: /^MCP_OAUTH_AUDIENCE must name at least one aud value/ },
  { env: { MCP_OAUTH_ISSUER: 'auth.example.com' }, says: /^MCP_OAUTH_ISSUER must be an absolute URL such as https:\/\/auth\.example\.com, got "auth\.example\.com"$/ },
  { env: { MCP_OAUTH_ISSUER: 'http://auth.example.com' }, says: /^MCP_OAUTH_ISSUER must use https \(plain http only on loopback, for development\), got "http:\/\/auth\.example\.com"$/ },
  { env: { MCP_RESOURCE_URL: 'https://mcp.example.com/mcp#top' }, says: /^MCP_RESOURCE_URL must not have a fragment/ },
  { env: { MCP_RESOURCE_URL: 'ftp://mcp.example.com/mcp' }, says: /^MCP_RESOURCE_URL must be an absolute URL/ },
  { env: { MCP_OAUTH_CLIENT_ID: 'mcp-server' }, says: /^Token introspection needs MCP_OAUTH_CLIENT_ID and MCP_OAUTH_CLIENT_SECRET together/ },
  { env: { MCP_OAUTH_CLIENT_SECRET: SECRET }, says: /^Token introspection needs MCP_OAUTH_CLIENT_ID and MCP_OAUTH_CLIENT_SECRET together/ },
  { env: { MCP_OAUTH_INTROSPECTION_URL: 'https://auth.example.com/introspect' }, says: /^Token introspection needs MCP_OAUTH_CLIENT_ID and MCP_OAUTH_CLIENT_SECRET together/ },
  {
    env: { MCP_OAUTH_INTROSPECTION_URL: 'http://auth.example.com/introspect', MCP_OAUTH_CLIENT_ID: 'mcp-server', MCP_OAUTH_CLIENT_SECRET: SECRET },
    says: /^MCP_OAUTH_INTROSPECTION_URL must use https/
  }
]

describe('bad MCP_OAUTH_* values are refused, naming the variable', () => {
  for (const { env, says } of REFUSALS) {
    test(`${Object.entries(env).map(([name, value]) => `${name}=${value}`).join(' ')}`, async () => {
      await assert.rejects(fromEnv({ MCP_OAUTH_ISSUER: ISSUER, MCP_RESOURCE_URL: RESOURCE, ...env }), (error: Error) => {
        assert.ok(error instanceof ConfigError, `a ConfigError, got ${error.name}: ${error.message}`)
        assert.match(error.message, says)
        assert.ok(!error.message.includes('\n'), 'one line')
        assert.ok(!error.message.includes(SECRET), 'the client secret is not shown')
        return true
      })
    })
  }

  test('an OAuth variable without MCP_OAUTH_ISSUER says that it needs it', async () => {
    for (const name of ['MCP_RESOURCE_URL', 'MCP_OAUTH_SCOPES', 'MCP_OAUTH_AUDIENCE', 'MCP_OAUTH_SCOPE_IMPLICATIONS', 'MCP_OAUTH_INTROSPECTION_URL', 'MCP_OAUTH_CLIENT_ID', 'MCP_OAUTH_CLIENT_SECRET']) {
      await assert.rejects(fromEnv({ [name]: name === 'MCP_OAUTH_SCOPE_IMPLICATIONS' ? 'admin=x' : 'https://x.example' }), { name: 'ConfigError', message: new RegExp(`^${name} needs MCP_OAUTH_ISSUER: `) }, name)
    }
  })

  test('MCP_OAUTH_ISSUER without MCP_RESOURCE_URL says what to give', async () => {
    await assert.rejects(fromEnv({ MCP_OAUTH_ISSUER: ISSUER }), { name: 'ConfigError', message: /^MCP_OAUTH_ISSUER needs MCP_RESOURCE_URL: this server's URL as clients reach it/ })
  })
})

describe('node server with bad MCP_OAUTH_* values', () => {
  const STARTS: Array<{ env: Record<string, string>, says: RegExp }> = [
    { env: { MCP_OAUTH_SCOPE_IMPLICATIONS: 'admin' }, says: /^MCP_OAUTH_SCOPE_IMPLICATIONS: "admin" is not "scope=implied implied\.\.\."/ },
    // Found by the plugin's option check, still told in terms of the variable.
    { env: { MCP_OAUTH_ISSUER: 'http://auth.example.com' }, says: /^MCP_OAUTH_ISSUER must use https/ },
    { env: { MCP_OAUTH_CLIENT_SECRET: SECRET }, says: /^Token introspection needs MCP_OAUTH_CLIENT_ID and MCP_OAUTH_CLIENT_SECRET together/ }
  ]
  for (const { env, says } of STARTS) {
    test(`stops with exit 1 and one line: ${Object.keys(env).join(' ')}`, async (t: TestContext) => {
      const run = runServer(t, ['--port', '0'], { MCP_OAUTH_ISSUER: ISSUER, MCP_RESOURCE_URL: RESOURCE, ...env })
      assert.equal(await exitWithin(closed(run.child), 10_000), 1)
      const lines = run.stderr().split('\n').filter((line) => line !== '')
      assert.equal(lines.length, 1, run.stderr())
      assert.match(lines[0], says)
      assert.ok(!run.stderr().includes(SECRET))
      assert.doesNotMatch(run.stdout(), /listening/)
    })
  }

  test('--no-auth with MCP_OAUTH_ISSUER stops with exit 1 and one line', async (t) => {
    const run = runServer(t, ['--port', '0', '--no-auth'], { MCP_OAUTH_ISSUER: ISSUER, MCP_RESOURCE_URL: RESOURCE })
    assert.equal(await exitWithin(closed(run.child), 10_000), 1)
    assert.match(run.stderr(), /^--no-auth contradicts MCP_OAUTH_ISSUER: [^\n]*\n$/)
  })
})

describe('node server with MCP_OAUTH_AUDIENCE', () => {
  const OAUTH_TOOLS = join(REPO_ROOT, 'dist', 'test', 'fixtures', 'oauth-tools.js')
  const API_IDENTIFIER = 'https://api.example.com/mcp'
  const authorizationServer = useAuthorizationServer()
  let as: AuthorizationServer
  let client: PublicClient

  before(async () => {
    as = await authorizationServer()
    client = await registerPublicClient(as)
  })

  async function start (t: TestContext, env: Record<string, string> = {}): Promise<string> {
    const port = await freePort()
    const origin = `http://127.0.0.1:${port}`
    await spawnServer(t, ['--tools', OAUTH_TOOLS, '--port', String(port)], {
      MCP_OAUTH_ISSUER: as.issuer, MCP_RESOURCE_URL: `${origin}/mcp`, MCP_OAUTH_SCOPES: 'mcp:tools', ...env
    })
    return origin
  }

  const profile = rpc('tools/call', { name: 'profile', arguments: {} })

  test('a token whose aud is one of the variable\'s values is accepted; without the variable it gets 401', async (t) => {
    const token = (await client.authorize(API_IDENTIFIER, 'mcp:tools')).access_token
    const withAudience = await start(t, { MCP_OAUTH_AUDIENCE: `api://unused, ${API_IDENTIFIER}` })
    const accepted = await post(`${withAudience}/mcp`, profile, { authorization: `Bearer ${token}` })
    assert.equal(accepted.status, 200, accepted.text)
    assert.equal(accepted.json.result.structuredContent.auth.subject, 'alice')

    const without = await start(t)
    const refused = await post(`${without}/mcp`, profile, { authorization: `Bearer ${token}` })
    assert.equal(refused.status, 401)
    const params = challengeParams(refused.headers.get('www-authenticate'))
    assert.equal(params.error, 'invalid_token')
    assert.equal(params.scope, 'mcp:tools')
    assert.equal(params.resource_metadata, `${without}/.well-known/oauth-protected-resource/mcp`)
    assert.match(params.error_description, /meant for another resource/)
  })
})
