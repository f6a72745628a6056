import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { ConfigError, parseConfig } from '../../server/config.js'
import { spawnServer } from '../helpers/spawn-server.js'
import { MCP_HEADERS, rpc } from '../helpers/raw-http.js'
import { openSse } from '../helpers/sse-client.js'
import { TOKEN, TOOLS_FIXTURE, waitFor } from '../server/support.js'
import { send, sendRaw, sendWhileRefused, trickleBody } from './support.js'
import { startApp, AUTH_HEADER as APP_AUTH } from '../helpers/app.js'

const AUTH = { authorization: `Bearer ${TOKEN}` }
const HEADERS = { ...MCP_HEADERS, ...AUTH }

function refused (env: Record<string, string>, message: RegExp): void {
  assert.throws(() => parseConfig([], env), (error: Error) => {
    assert.ok(error instanceof ConfigError, `${JSON.stringify(env)}: a ConfigError`)
    assert.match(error.message, message)
    return true
  })
}

describe('node server guards and limits', () => {
  test('the guards and limits come from the environment', () => {
    const config = parseConfig([], {
      MCP_ALLOWED_HOSTS: 'mcp.example.com, mcp.example.com:8443,[::1]:3100',
      MCP_ALLOWED_ORIGINS: 'https://app.example.com,http://localhost:5173',
      MCP_BODY_LIMIT: '65536',
      MCP_TOOL_TIMEOUT_MS: '0',
      MCP_MAX_SESSIONS_PER_IDENTITY: '3',
      MCP_SSE_MAX_IN_FLIGHT: '4',
      MCP_AUTH_FAILURE_LOG_LEVEL: 'info'
    })
    const { options } = config
    assert.deepEqual(options.allowedHosts, ['mcp.example.com', 'mcp.example.com:8443', '[::1]:3100'])
    assert.deepEqual(options.allowedOrigins, ['https://app.example.com', 'http://localhost:5173'])
    assert.deepEqual([options.bodyLimit, options.toolTimeoutMs, options.maxSessionsPerIdentity, options.sse.maxInFlight, options.authFailureLogLevel],
      [65_536, 0, 3, 4, 'info'])
  })

  test('bad guard and limit settings are refused with the variable\'s name', () => {
    refused({ MCP_ALLOWED_HOSTS: 'https://mcp.example.com' }, /MCP_ALLOWED_HOSTS must be host names such as mcp\.example\.com.*, got "https:\/\/mcp.example.com"/)
    refused({ MCP_ALLOWED_HOSTS: ' , ' }, /MCP_ALLOWED_HOSTS must be host names .*, got " , "/)
    refused({ MCP_ALLOWED_ORIGINS: 'app.example.com' }, /MCP_ALLOWED_ORIGINS must be origins such as https:\/\/app\.example\.com.*, got "app.example.com"/)
    refused({ MCP_ALLOWED_ORIGINS: 'https://app.example.com/path' }, /MCP_ALLOWED_ORIGINS must be origins/)
    refused({ MCP_BODY_LIMIT: '1mb' }, /MCP_BODY_LIMIT must be a whole number from 1 up, got "1mb"/)
    refused({ MCP_TOOL_TIMEOUT_MS: '-1' }, /MCP_TOOL_TIMEOUT_MS must be a whole number from 0/)
    refused({ MCP_MAX_SESSIONS_PER_IDENTITY: '0' }, /MCP_MAX_SESSIONS_PER_IDENTITY must be a whole number from 1/)
    refused({ MCP_SSE_MAX_IN_FLIGHT: 'many' }, /MCP_SSE_MAX_IN_FLIGHT/)
    refused({ MCP_AUTH_FAILURE_LOG_LEVEL: 'loud' }, /MCP_AUTH_FAILURE_LOG_LEVEL must be one of fatal, error, warn/)
  })

  test('MCP_ALLOWED_HOSTS and MCP_ALLOWED_ORIGINS guard the spawned server\'s MCP routes', { timeout: 30_000 }, async (t) => {
    const server = await spawnServer(t, [], { MCP_TOKEN: TOKEN, MCP_ALLOWED_HOSTS: 'mcp.example.com', MCP_ALLOWED_ORIGINS: 'https://app.example.com' })
    const ping = async (headers: Record<string, string>): Promise<number> =>
      (await send(server.baseUrl, { path: '/mcp', headers: { ...HEADERS, ...headers }, body: rpc('ping') })).status
    assert.equal(await ping({ host: 'mcp.example.com' }), 200)
    assert.equal(await ping({}), 403, 'the loopback address is not in the list')
    assert.equal(await ping({ host: 'evil.example' }), 403)
    assert.equal(await ping({ host: 'mcp.example.com', origin: 'https://app.example.com' }), 200)
    assert.equal(await ping({ host: 'mcp.example.com', origin: 'https://evil.example' }), 403)
    assert.equal((await send(server.baseUrl, { method: 'GET', path: '/health' })).status, 200, '/health is not guarded')
  })

  test('MCP_BODY_LIMIT, MCP_TOOL_TIMEOUT_MS, MCP_SSE_MAX_IN_FLIGHT, MCP_MAX_SESSIONS_PER_IDENTITY and MCP_AUTH_FAILURE_LOG_LEVEL reach the plugin', { timeout: 30_000 }, async (t) => {
    const server = await spawnServer(t, ['--tools', TOOLS_FIXTURE], {
      MCP_TOKEN: TOKEN,
      MCP_BODY_LIMIT: '2048',
      MCP_TOOL_TIMEOUT_MS: '1000',
      MCP_SSE_MAX_IN_FLIGHT: '1',
      MCP_MAX_SESSIONS_PER_IDENTITY: '1',
      MCP_AUTH_FAILURE_LOG_LEVEL: 'error'
    })
    const big = await send(server.baseUrl, { path: '/mcp', headers: HEADERS, body: rpc('ping', { padding: 'x'.repeat(4096) }) })
    assert.equal(big.status, 413)

    const session = await openSse(t, server.baseUrl, AUTH)
    const second = await send(server.baseUrl, { method: 'GET', path: '/sse', headers: AUTH })
    assert.equal(second.status, 429, 'one session per identity')

    assert.equal((await session.send(rpc('tools/call', { name: 'slow', arguments: { ms: 5000 } }, 'slow'), AUTH)).status, 202)
    assert.equal((await session.send(rpc('ping', undefined, 'busy'), AUTH)).status, 429, 'one request running per SSE session')
    const timedOut = await session.nextMessage()
    assert.equal(timedOut.id, 'slow')
    assert.match(timedOut.result.content[0].text, /timed out after 1000 ms/)

    await send(server.baseUrl, { path: '/mcp', headers: MCP_HEADERS, body: rpc('ping') })
    const line = await waitFor('the refusal in the log', () => server.stdout().split('\n').find((text) => text.includes('refused by bearer auth')))
    assert.equal(JSON.parse(line).level, 50)
  })
})

describe('early refusals reach clients that are still sending', () => {
  const JSON_LINES = ['Content-Type: application/json', 'Accept: application/json, text/event-stream']

  test('2 MiB bodies refused with 413 (too large) and 401 (no token) while the client keeps sending: no answer is lost in 40 tries each', { timeout: 120_000 }, async (t) => {
    const server = await spawnServer(t, [], { MCP_TOKEN: TOKEN })
    const tally: Record<string, number> = {}
    for (let i = 0; i < 40; i++) {
      for (const [expected, lines] of [['413', [...JSON_LINES, `Authorization: Bearer ${TOKEN}`]], ['401', JSON_LINES]] as const) {
        const status = await sendWhileRefused(server.baseUrl, lines, 2 * 1024 * 1024)
        const key = `${expected} expected, ${status === 0 ? 'lost (reset before the answer was read)' : `got ${status}`}`
        tally[key] = (tally[key] ?? 0) + 1
      }
    }
    assert.deepEqual(tally, { '413 expected, got 413': 40, '401 expected, got 401': 40 })
    assert.equal((await send(server.baseUrl, { path: '/mcp', headers: HEADERS, body: rpc('ping') })).status, 200)
  })

  test('node server: a client that trickles the body of a refused request gets Connection: close and is let go', { timeout: 30_000 }, async (t) => {
    const server = await spawnServer(t, [], { MCP_TOKEN: TOKEN })
    const { head } = await trickleBody(server.baseUrl, JSON_LINES, 100, 8_000)
    assert.match(head, /^HTTP\/1\.1 401 /)
    assert.match(head, /\r\nconnection: close\r\n/i)
  })

  test('the plugin: a foreign Host refused while its body trickles gets Connection: close and is let go; a refusal after the body keeps the connection', async (t) => {
    const { baseUrl } = await startApp(t)
    const { head } = await trickleBody(baseUrl, [...JSON_LINES, 'Origin: http://evil.example'], 100, 8_000)
    assert.match(head, /^HTTP\/1\.1 403 /)
    assert.match(head, /\r\nconnection: close\r\n/i)
    const ping = JSON.stringify(rpc('ping'))
    const afterBody = await sendRaw(baseUrl, `POST /mcp HTTP/1.1\r\nHost: ${new URL(baseUrl).host}\r\nAuthorization: ${APP_AUTH.authorization}\r\n` +
      `Content-Type: application/json\r\nAccept: text/html\r\nContent-Length: ${ping.length}\r\n\r\n${ping}`, 500)
    assert.equal(afterBody.status, 406)
    assert.match(afterBody.head, /\r\nconnection: keep-alive/i, 'the body had arrived: the connection stays open for the next request')
  })
})
