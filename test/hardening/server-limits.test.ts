import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { ConfigError, parseConfig } from '../../server/config.js'
import { spawnServer } from '../helpers/spawn-server.js'
import { MCP_HEADERS, rpc } from '../helpers/raw-http.js'
import { openSse } from '../helpers/sse-client.js'
import { TOKEN, TOOLS_FIXTURE, waitFor } from '../server/support.js'
import { openConnection, send, sendRaw, sendWhileRefused, trickle, trickleBody } from './support.js'
import { effectiveTimeouts } from '../../server/connection-limits.js'
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

describe('node server: request timeouts and connection caps', () => {
  const JSON_LINES = ['Content-Type: application/json', 'Accept: application/json, text/event-stream']
  const pingBytes = (host: string, extra = ''): string => {
    const body = JSON.stringify(rpc('ping'))
    return `POST /mcp HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${TOKEN}\r\n${JSON_LINES.join('\r\n')}\r\n${extra}Content-Length: ${body.length}\r\n\r\n${body}`
  }

  test('the headers timeout is capped at the request timeout (Node would swap them), and deadlines are checked often', () => {
    const base = { keepAliveTimeoutMs: 72_000, maxConnections: 1000, maxConnectionsPerAddress: 200 }
    assert.deepEqual(effectiveTimeouts({ ...base, requestTimeoutMs: 30_000, headersTimeoutMs: 10_000 }), { requestTimeout: 30_000, headersTimeout: 10_000, connectionsCheckingInterval: 1_000 })
    assert.deepEqual(effectiveTimeouts({ ...base, requestTimeoutMs: 5_000, headersTimeoutMs: 10_000 }), { requestTimeout: 5_000, headersTimeout: 5_000, connectionsCheckingInterval: 1_000 })
    assert.deepEqual(effectiveTimeouts({ ...base, requestTimeoutMs: 0, headersTimeoutMs: 10_000 }), { requestTimeout: 0, headersTimeout: 10_000, connectionsCheckingInterval: 1_000 })
    assert.deepEqual(effectiveTimeouts({ ...base, requestTimeoutMs: 1_000, headersTimeoutMs: 800 }).connectionsCheckingInterval, 200)
  })

  test('MCP_REQUEST_TIMEOUT_MS: a request whose body does not arrive in time gets 408 with a JSON-RPC error, and the connection is closed', { timeout: 30_000 }, async (t) => {
    const server = await spawnServer(t, [], { MCP_TOKEN: TOKEN, MCP_REQUEST_TIMEOUT_MS: '1000' })
    const { head, body } = await trickleBody(server.baseUrl, [...JSON_LINES, `Authorization: Bearer ${TOKEN}`], 100, 10_000)
    assert.match(head, /^HTTP\/1\.1 408 Request Timeout\r\n/)
    assert.match(head, /\r\nConnection: close\r\n/i)
    assert.match(JSON.parse(body).error.message, /^Request Timeout: the request did not arrive whole in time \(headers within 1000 ms, the whole request within 1000 ms\); send it again/)
    assert.equal((await send(server.baseUrl, { path: '/mcp', headers: HEADERS, body: rpc('ping') })).status, 200, 'others are served meanwhile and after')
  })

  test('MCP_HEADERS_TIMEOUT_MS: a request whose headers trickle in gets 408 and the connection is closed', { timeout: 30_000 }, async (t) => {
    const server = await spawnServer(t, [], { MCP_TOKEN: TOKEN, MCP_HEADERS_TIMEOUT_MS: '1000' })
    const { head } = await trickle(server.baseUrl, 'POST /mcp HTTP/1.1\r\n', 'X-Slow: a\r\n', 100, 10_000)
    assert.match(head, /^HTTP\/1\.1 408 Request Timeout\r\n/)
  })

  test('MCP_KEEP_ALIVE_TIMEOUT_MS: an idle keep-alive connection is closed after it', { timeout: 30_000 }, async (t) => {
    const server = await spawnServer(t, [], { MCP_TOKEN: TOKEN, MCP_KEEP_ALIVE_TIMEOUT_MS: '500' })
    const { head } = await trickle(server.baseUrl, pingBytes(new URL(server.baseUrl).host), '', 1_000, 8_000)
    assert.match(head, /^HTTP\/1\.1 200 OK\r\n/)
    assert.match(head, /\r\nConnection: keep-alive\r\n/i, 'kept alive after the answer, then closed when idle')
  })

  test('MCP_MAX_CONNECTIONS_PER_ADDRESS and MCP_MAX_CONNECTIONS: one connection more gets 429 or 503 with a JSON-RPC error; other addresses are served', { timeout: 30_000 }, async (t) => {
    const server = await spawnServer(t, [], { MCP_TOKEN: TOKEN, MCP_MAX_CONNECTIONS_PER_ADDRESS: '2', MCP_MAX_CONNECTIONS: '3' })
    const host = new URL(server.baseUrl).host
    const first = await openConnection(server.baseUrl, '127.0.0.1')
    const second = await openConnection(server.baseUrl, '127.0.0.1')
    t.after(() => { first.close(); second.close() })
    assert.equal((await first.request(pingBytes(host))).status, 200)
    assert.equal((await second.request(pingBytes(host))).status, 200)

    const third = await openConnection(server.baseUrl, '127.0.0.1')
    const perAddress = await third.request('')
    assert.equal(perAddress.status, 429)
    assert.match(perAddress.head, /\r\nRetry-After: 5\r\n/i)
    assert.match(JSON.parse(perAddress.body).error.message, /^Too Many Requests: your address already holds 2 connections to this server, the limit per client address/)
    await third.closed

    const other = await openConnection(server.baseUrl, '127.0.0.2')
    t.after(() => { other.close() })
    assert.equal((await other.request(pingBytes(host))).status, 200, 'another address is served')
    const overTotal = await (await openConnection(server.baseUrl, '127.0.0.3')).request('')
    assert.equal(overTotal.status, 503)
    assert.match(JSON.parse(overTotal.body).error.message, /^Service Unavailable: this server holds its maximum of 3 connections; retry shortly/)

    first.close()
    await first.closed
    const again = await waitFor('a connection from 127.0.0.1 served once one closed', async () => {
      const connection = await openConnection(server.baseUrl, '127.0.0.1')
      const answer = await connection.request(pingBytes(host)).catch(() => undefined)
      connection.close()
      return answer?.status === 200 ? answer : undefined
    })
    assert.equal(again.status, 200)
    const warnings = server.stdout().split('\n').filter((line) => line.includes('Refusing new connections'))
    assert.equal(warnings.length, 2, 'one warning per address that hit its cap, and one for the total')
  })
})
