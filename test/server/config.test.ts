import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { ConfigError, isLoopback, loadTokens, parseConfig } from '../../server/config.js'
import { tokenFingerprint } from '../../plugin/auth/token-matcher.js'

function tokenFile (t: TestContext, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-config-'))
  t.after(() => { rmSync(dir, { recursive: true, force: true }) })
  const file = join(dir, 'tokens.txt')
  writeFileSync(file, text)
  return file
}

/** Asserts that `fn` throws a ConfigError whose message matches, and that the message shows no secret. */
function assertConfigError (fn: () => unknown, message: RegExp, secret?: string): void {
  assert.throws(fn, (error: Error) => {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error.name}: ${error.message}`)
    assert.match(error.message, message)
    if (secret !== undefined) assert.ok(!error.message.includes(secret), 'the message shows the token')
    return true
  })
}

test('with nothing set, the server is HTTP on 127.0.0.1:3100 with SSE, no tokens and an 8 s drain', () => {
  assert.deepEqual(parseConfig([], {}), {
    transport: 'http',
    host: '127.0.0.1',
    port: 3100,
    tokens: [],
    noAuth: false,
    toolsModule: undefined,
    sse: true,
    sseMaxSessions: 50,
    sseIdleTimeoutMs: 1_800_000,
    stateful: false,
    statefulMaxSessions: 100,
    statefulIdleTimeoutMs: 1_800_000,
    shutdownGraceMs: 8_000,
    logLevel: 'info',
    allowedHosts: undefined,
    allowedOrigins: undefined,
    bodyLimit: 1_048_576,
    toolTimeoutMs: 300_000,
    maxSessionsPerIdentity: undefined,
    sseMaxInFlight: 32,
    authFailureLogLevel: 'warn',
    requestStateSecret: undefined
  })
})

test('every flag wins over its environment variable', () => {
  const env = { HOST: '10.0.0.1', PORT: '8080', MCP_TOOLS: 'env-tools.js', MCP_TRANSPORT: 'stdio', MCP_SSE: '1', LOG_LEVEL: 'warn' }
  const config = parseConfig(['--host', '::1', '--port', '9000', '--tools', 'flag-tools.js', '--transport', 'http', '--no-sse', '--log-level', 'debug'], env)
  assert.equal(config.host, '::1')
  assert.equal(config.port, 9000)
  assert.equal(config.toolsModule, 'flag-tools.js')
  assert.equal(config.transport, 'http')
  assert.equal(config.sse, false)
  assert.equal(config.logLevel, 'debug')
})

test('environment variables apply when no flag is given', () => {
  const config = parseConfig([], {
    HOST: '0.0.0.0', PORT: '3200', MCP_TOOLS: 'tools.js', MCP_SSE: 'off', MCP_SSE_MAX_SESSIONS: '5',
    MCP_SSE_IDLE_TIMEOUT_MS: '60000', MCP_SHUTDOWN_GRACE_MS: '1000', LOG_LEVEL: 'error'
  })
  assert.deepEqual(
    [config.host, config.port, config.toolsModule, config.sse, config.sseMaxSessions, config.sseIdleTimeoutMs, config.shutdownGraceMs, config.logLevel],
    ['0.0.0.0', 3200, 'tools.js', false, 5, 60_000, 1000, 'error'])
})

test('empty environment variables count as unset', () => {
  const config = parseConfig([], { HOST: '', PORT: '', MCP_TOKEN: '', MCP_TOKEN_FILE: '', MCP_TOOLS: '', MCP_TRANSPORT: '', LOG_LEVEL: '' })
  assert.deepEqual(config, parseConfig([], {}))
})

test('MCP_TOKEN splits on commas, trims, and names each token by its fingerprint', () => {
  assert.deepEqual(loadTokens({ MCP_TOKEN: ' one-token , two-token,,' }), [
    { token: 'one-token', id: tokenFingerprint('one-token') },
    { token: 'two-token', id: tokenFingerprint('two-token') }
  ])
  assert.notEqual(tokenFingerprint('one-token'), tokenFingerprint('two-token'))
})

test('a token file skips comments and blank lines, and "name token" lines share identities by name', (t) => {
  const file = tokenFile(t, '# team tokens\r\nalice a-1\r\n\r\n  alice\ta-2  \nbob b-1\nbare-token\n')
  assert.deepEqual(loadTokens({ MCP_TOKEN_FILE: file }), [
    { token: 'a-1', id: 'alice' },
    { token: 'a-2', id: 'alice' },
    { token: 'b-1', id: 'bob' },
    { token: 'bare-token', id: tokenFingerprint('bare-token') }
  ])
})

test('a token file line with three fields is refused by line number without echoing it', (t) => {
  const file = tokenFile(t, 'alice a-1\nbob secret-b extra\n')
  assertConfigError(() => loadTokens({ MCP_TOKEN_FILE: file }), /MCP_TOKEN_FILE line 2: expected "token" or "name token"/, 'secret-b')
})

test('a token file without any token is refused', (t) => {
  const file = tokenFile(t, '# nothing here yet\n\n')
  assertConfigError(() => loadTokens({ MCP_TOKEN_FILE: file }), /holds no token.*generate-key/)
})

test('a token with a space or a non-ASCII character is refused without being echoed', () => {
  assertConfigError(() => loadTokens({ MCP_TOKEN: 'open sesame' }), /MCP_TOKEN: a token must be printable ASCII without spaces/, 'sesame')
  assertConfigError(() => loadTokens({ MCP_TOKEN: 'pässwort' }), /printable ASCII/, 'pässwort')
})

test('one token configured for two identities is refused', (t) => {
  const file = tokenFile(t, 'alice shared-token\nbob shared-token\n')
  assertConfigError(() => loadTokens({ MCP_TOKEN_FILE: file }), /One token is configured for two identities \("alice" and "bob"\)/, 'shared-token')
})

test('the same token listed twice for one identity is accepted', (t) => {
  const file = tokenFile(t, 'alice same-token\nalice same-token\n')
  assert.equal(loadTokens({ MCP_TOKEN_FILE: file }).length, 2)
})

test('--no-auth with a token is a contradiction', () => {
  assertConfigError(() => parseConfig(['--no-auth'], { MCP_TOKEN: 'some-token' }), /--no-auth contradicts MCP_TOKEN/)
})

test('stdio reads no tokens, so a missing token file does not stop it', () => {
  const config = parseConfig(['--transport', 'stdio'], { MCP_TOKEN_FILE: '/nonexistent/tokens.txt', MCP_TOKEN: 'x' })
  assert.deepEqual(config.tokens, [])
})

test('numbers out of range or not whole name their variable', () => {
  assertConfigError(() => parseConfig(['--port=-1'], {}), /--port \/ PORT must be a whole number from 0 to 65535, got "-1"/)
  assertConfigError(() => parseConfig(['--port', '3100.5'], {}), /got "3100\.5"/)
  assertConfigError(() => parseConfig([], { PORT: ' ' }), /got " "/)
  assertConfigError(() => parseConfig([], { MCP_SSE_MAX_SESSIONS: '0' }), /MCP_SSE_MAX_SESSIONS must be a whole number from 1/)
  assertConfigError(() => parseConfig([], { MCP_SHUTDOWN_GRACE_MS: 'soon' }), /MCP_SHUTDOWN_GRACE_MS/)
  assertConfigError(() => parseConfig([], { MCP_SSE: 'maybe' }), /MCP_SSE must be 1 or 0/)
})

test('--sse and --no-sse together are refused', () => {
  assertConfigError(() => parseConfig(['--sse', '--no-sse'], {}), /contradict/)
})

test('an unknown flag or a stray argument is refused with the usage', () => {
  assertConfigError(() => parseConfig(['--tokens', 'x'], {}), /Unknown option '--tokens'[\s\S]*Usage: node server/)
  assertConfigError(() => parseConfig(['serve'], {}), /Unexpected argument 'serve'[\s\S]*Usage: node server/)
})

test('isLoopback accepts 127.0.0.0/8, ::1 and localhost, and nothing else', () => {
  for (const host of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost']) assert.equal(isLoopback(host), true, host)
  for (const host of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.10', 'example.com', '128.0.0.1']) assert.equal(isLoopback(host), false, host)
})

test('MCP_REQUEST_STATE_SECRET is passed on, and a short one is refused with a way to make a good one', () => {
  assert.equal(parseConfig([], { MCP_REQUEST_STATE_SECRET: 'a-secret-of-sufficient-length' }).requestStateSecret, 'a-secret-of-sufficient-length')
  assert.throws(() => parseConfig([], { MCP_REQUEST_STATE_SECRET: 'short' }), /at least 16 characters.*generate-key/)
})
