/**
 * `npm run test:inspector`: the official MCP inspector CLI against `node server` in OAuth mode, with oidc-provider
 * on loopback as the identity provider and an access token from its real authorization-code flow passed as a
 * header. Outside `npm test` for the reasons scripts/inspector-bridge.ts gives.
 */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { startAuthorizationServer, type AuthorizationServer } from '../test/helpers/authorization-server.js'
import { registerPublicClient, type PublicClient } from '../test/helpers/oauth-tokens.js'
import { freePort } from '../test/helpers/oauth-app.js'
import { REPO_ROOT, spawnServer, type SpawnedServer } from '../test/helpers/spawn-server.js'
import { waitFor } from '../test/server/support.js'
import { AUTH_MISSING, runInspector, type InspectorRun } from './inspector-cli.js'

const OAUTH_TOOLS = join(REPO_ROOT, 'dist', 'test', 'fixtures', 'oauth-tools.js')

const cleanups: Array<() => Promise<void>> = []
const afterAll = { after: (cleanup: () => Promise<void>) => { cleanups.push(cleanup) } }
let as: AuthorizationServer
let client: PublicClient
let server: SpawnedServer
let resource: string
let token: string

before(async () => {
  as = await startAuthorizationServer(afterAll)
  client = await registerPublicClient(as, 'inspector-oauth')
  const port = await freePort()
  resource = `http://127.0.0.1:${port}/mcp`
  server = await spawnServer(afterAll, ['--tools', OAUTH_TOOLS, '--port', String(port)], {
    MCP_OAUTH_ISSUER: as.issuer, MCP_RESOURCE_URL: resource, MCP_OAUTH_SCOPES: 'mcp:tools'
  })
  token = (await client.authorize(resource, 'mcp:tools')).access_token
})

after(async () => { for (const cleanup of cleanups.reverse()) await cleanup() })

/** An inspector run that never starts an interactive OAuth login (no browser here): without a token it must fail. */
async function inspector (bearer: string | undefined, ...args: string[]): Promise<InspectorRun> {
  return await runInspector(resource, 'http', bearer, ['--stored-auth-only', ...args])
}

test('tools/list with the access token in --header lists the server\'s tools', async () => {
  const run = await inspector(token, '--method', 'tools/list')
  assert.equal(run.code, 0, run.stderr)
  assert.deepEqual(run.json.tools.map((tool: { name: string }) => tool.name), ['profile', 'read_notes', 'deploy'])
})

test('tools/call with the access token runs the tool as the token\'s user, and no log line shows the token', async () => {
  const run = await inspector(token, '--method', 'tools/call', '--tool-name', 'profile')
  assert.equal(run.code, 0, run.stderr)
  const auth = run.json.structuredContent.auth
  assert.equal(auth.subject, 'alice')
  assert.equal(auth.clientId, client.clientId)
  assert.deepEqual(auth.scopes, ['mcp:tools'])
  assert.ok(!server.stdout().includes(token) && !server.stderr().includes(token))
})

test('without the header the inspector is refused with the 401 and our message', async () => {
  const refusalsBefore = refusals()
  const run = await inspector(undefined, '--method', 'tools/list')
  assert.equal(run.code, AUTH_MISSING, run.stderr)
  const error = errorOf(run)
  assert.equal(error.code, 'auth_required')
  assert.match(error.message, /Missing credentials: send the header .*Authorization: Bearer <access token>.*resource_metadata/)
  await waitFor('the server to log the refusal', () => refusals() > refusalsBefore ? true : undefined)
})

test('a token for another resource is refused with the 401 too', async () => {
  const foreign = (await client.authorize('http://127.0.0.1:9/another-mcp', 'mcp:tools')).access_token
  const run = await inspector(foreign, '--method', 'tools/list')
  assert.equal(run.code, AUTH_MISSING, run.stderr)
  assert.equal(errorOf(run).code, 'auth_required')
  assert.match(errorOf(run).message, /Invalid access token: the token is meant for another resource/)
})

test('a tool that needs more scope gets the 403 step-up the inspector reads; a token with that scope runs it', async () => {
  const refused = await inspector(token, '--method', 'tools/call', '--tool-name', 'deploy', '--tool-arg', 'service=api')
  assert.notEqual(refused.code, 0)
  assert.match(errorOf(refused).message, /Insufficient scope: required \\?"mcp:tools deploy:write\\?"/)
  const stepped = (await client.authorize(resource, 'mcp:tools deploy:write')).access_token
  const run = await inspector(stepped, '--method', 'tools/call', '--tool-name', 'deploy', '--tool-arg', 'service=api')
  assert.equal(run.code, 0, run.stderr)
  assert.deepEqual(run.json.content, [{ type: 'text', text: 'deployed api' }])
})

/** The error the inspector prints on stderr as one JSON line. */
function errorOf (run: InspectorRun): { code: string, message: string } {
  const line = run.stderr.split('\n').reverse().find((text) => text.startsWith('{"error"'))
  assert.ok(line !== undefined, `no error line in: ${run.stderr}`)
  return (JSON.parse(line) as { error: { code: string, message: string } }).error
}

/** How many requests the server has refused for want of credentials so far (from its JSON log). */
function refusals (): number {
  return server.stdout().split('\n').filter((line) => line.includes('"MCP request refused by bearer auth"')).length
}
