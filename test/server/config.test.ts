import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { ConfigError, isLoopback, loadTokens, parseConfig } from '../../server/config.js'
import { tokenFingerprint } from '../../plugin/auth/token-matcher.js'
import { resolveOptions } from '../../plugin/options.js'

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

test('with nothing set, the server is HTTP on 127.0.0.1:3100 with SSE, no tokens, an 8 s drain, connection limits, no metrics or tracing, and the plugin defaults', () => {
  const { options, ...settings } = parseConfig([], {})
  assert.deepEqual(settings, {
    transport: 'http',
    host: '127.0.0.1',
    port: 3100,
    noAuth: false,
    logLevel: 'info',
    shutdownGraceMs: 8_000,
    requestTimeoutMs: 30_000,
    headersTimeoutMs: 10_000,
    keepAliveTimeoutMs: 72_000,
    maxConnections: 1_000,
    maxConnectionsPerAddress: 200,
    // Only where a metrics listener would bind; no MCP_METRICS_PORT, no listener (and no OTLP endpoint, no tracing).
    metricsHost: '127.0.0.1',
    tokens: []
  })
  assert.deepEqual(options, resolveOptions({ auth: false }).config, 'exactly the plugin\'s defaults')
  assert.deepEqual([options.routes.sse, options.sse.maxSessions, options.streamable.sessions, options.toolTimeoutMs], [true, 50, false, 300_000])
})

test('every flag wins over its environment variable', () => {
  const env = { HOST: '10.0.0.1', PORT: '8080', MCP_TOOLS: 'env-tools.js', MCP_TRANSPORT: 'stdio', MCP_SSE: '1', LOG_LEVEL: 'warn', MCP_STATEFUL: '0' }
  const config = parseConfig(['--host', '::1', '--port', '9000', '--tools', 'flag-tools.js', '--transport', 'http', '--no-sse', '--log-level', 'debug', '--stateful'], env)
  assert.equal(config.host, '::1')
  assert.equal(config.port, 9000)
  assert.equal(config.toolsModule, 'flag-tools.js')
  assert.equal(config.transport, 'http')
  assert.equal(config.options.routes.sse, false)
  assert.equal(config.options.streamable.sessions, true)
  assert.equal(config.logLevel, 'debug')
})

test('environment variables apply when no flag is given', () => {
  const config = parseConfig([], {
    HOST: '0.0.0.0',
    PORT: '3200',
    MCP_TOOLS: 'tools.js',
    MCP_SSE: 'off',
    MCP_SSE_MAX_SESSIONS: '5',
    MCP_SSE_IDLE_TIMEOUT_MS: '60000',
    MCP_SHUTDOWN_GRACE_MS: '1000',
    LOG_LEVEL: 'error'
  })
  assert.deepEqual(
    [config.host, config.port, config.toolsModule, config.options.routes.sse, config.options.sse.maxSessions, config.options.sse.idleTimeoutMs, config.shutdownGraceMs, config.logLevel],
    ['0.0.0.0', 3200, 'tools.js', false, 5, 60_000, 1000, 'error'])
})

test('--sse turns SSE back on over MCP_SSE=0', () => {
  assert.equal(parseConfig(['--sse'], { MCP_SSE: '0' }).options.routes.sse, true)
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

test('a bad value is refused by the schema in one line that names the flag or the variable it came from', () => {
  assertConfigError(() => parseConfig(['--port=-1'], {}), /^--port must be a whole number from 0 to 65535, got "-1"$/)
  assertConfigError(() => parseConfig([], { PORT: '-1' }), /^PORT must be a whole number from 0 to 65535, got "-1"$/)
  assertConfigError(() => parseConfig(['--port', '3100.5'], {}), /got "3100\.5"/)
  assertConfigError(() => parseConfig([], { PORT: ' ' }), /got " "/)
  assertConfigError(() => parseConfig([], { MCP_SSE_MAX_SESSIONS: '0' }), /^MCP_SSE_MAX_SESSIONS must be a whole number from 1 up, got "0"$/)
  assertConfigError(() => parseConfig([], { MCP_SHUTDOWN_GRACE_MS: 'soon' }), /^MCP_SHUTDOWN_GRACE_MS must be a whole number from 0 to 600000, got "soon"$/)
  assertConfigError(() => parseConfig([], { MCP_SSE: 'maybe' }), /^MCP_SSE must be 1 or 0 \(true or false\), got "maybe"$/)
  assertConfigError(() => parseConfig([], { MCP_TRANSPORT: 'carrier-pigeon' }), /^MCP_TRANSPORT must be one of http, stdio, got "carrier-pigeon"$/)
  assertConfigError(() => parseConfig(['--log-level', 'loud'], {}), /^--log-level must be one of fatal, error, warn, info, debug, trace, silent, got "loud"$/)
  assertConfigError(() => parseConfig(['--host', ''], {}), /^--host must be an address such as 127\.0\.0\.1 or 0\.0\.0\.0, got ""$/)
})

test('a timeout longer than Node\'s timers can wait is refused rather than firing at once', () => {
  assertConfigError(() => parseConfig([], { MCP_SSE_IDLE_TIMEOUT_MS: '2147483648' }), /^MCP_SSE_IDLE_TIMEOUT_MS must be a whole number from 1 to 2147483647/)
  assert.equal(parseConfig([], { MCP_SSE_IDLE_TIMEOUT_MS: '2147483647' }).options.sse.idleTimeoutMs, 2_147_483_647)
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

test('MCP_REQUEST_STATE_SECRET is passed on, and a short one is refused, unechoed, with a way to make a good one', () => {
  assert.equal(parseConfig([], { MCP_REQUEST_STATE_SECRET: 'a-secret-of-sufficient-length' }).options.requestStateSecret, 'a-secret-of-sufficient-length')
  assertConfigError(() => parseConfig([], { MCP_REQUEST_STATE_SECRET: 'short-secret' }), /^MCP_REQUEST_STATE_SECRET must be at least 16 characters.*generate-key$/, 'short-secret')
})
