import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { request as httpRequest } from 'node:http'
import Fastify from 'fastify'
import mcpPlugin, { type McpPluginOptions } from '../../plugin/index.js'
import { AUTH_HEADER, SECOND_TOKEN, startApp, TOKEN } from '../helpers/app.js'
import { connectHttp } from '../helpers/clients.js'
import { fixtureTools } from '../helpers/fixture-tools.js'
import { post, request, rpc, type RawResponse } from '../helpers/raw-http.js'
import { openSse } from '../helpers/sse-client.js'
import { waitFor } from '../helpers/sse-client.js'

/**
 * Issue 17, "Also": per-caller rate limits (`rateLimit`), with @fastify/rate-limit. A caller over its budget gets 429
 * with Retry-After and a JSON-RPC error saying when to retry; every other caller goes on being served.
 */

const SECOND = { authorization: `Bearer ${SECOND_TOKEN}` }
const TOKENS = { tokens: [{ token: TOKEN, id: 'alice' }, { token: SECOND_TOKEN, id: 'bob' }] }

async function ping (mcpUrl: string, headers: Record<string, string> = AUTH_HEADER): Promise<RawResponse> {
  return await post(mcpUrl, rpc('ping'), headers)
}

async function callAdd (mcpUrl: string, id: number, headers: Record<string, string> = AUTH_HEADER): Promise<RawResponse> {
  return await post(mcpUrl, rpc('tools/call', { name: 'add', arguments: { a: 1, b: 2 } }, id), headers)
}

function assertRateLimited (response: RawResponse, id: number | null, what: RegExp): void {
  assert.equal(response.status, 429, response.text)
  const retryAfter = Number(response.headers.get('retry-after'))
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After ${String(response.headers.get('retry-after'))}`)
  assert.equal(response.json.jsonrpc, '2.0')
  assert.equal(response.json.id, id)
  assert.equal(response.json.error.code, -32000)
  assert.match(response.json.error.message, what)
  assert.match(response.json.error.message, new RegExp(`retry in ${retryAfter} s`))
}

/** POSTs a ping from a chosen loopback address (127.0.0.x), without auth headers. */
async function pingFrom (mcpUrl: string, localAddress: string): Promise<number> {
  return await new Promise((resolve, reject) => {
    const body = JSON.stringify(rpc('ping'))
    const outgoing = httpRequest(mcpUrl, {
      method: 'POST',
      localAddress,
      agent: false,
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'content-length': Buffer.byteLength(body) }
    }, (incoming) => {
      incoming.resume()
      incoming.on('end', () => { resolve(incoming.statusCode ?? 0) })
    })
    outgoing.on('error', reject)
    outgoing.end(body)
  })
}

describe('rate limits (issue 17)', () => {
  test('off by default: one caller sends 300 requests and every one is answered, with no rate-limit headers', async (t) => {
    const { baseUrl } = await startApp(t)
    const answers = await Promise.all(Array.from({ length: 300 }, async () => await ping(`${baseUrl}/mcp`)))
    assert.deepEqual([...new Set(answers.map((answer) => answer.status))], [200])
    assert.equal(answers[0].headers.get('x-ratelimit-limit'), null)
    assert.equal(answers[0].headers.get('retry-after'), null)
  })

  test('requests per caller: one over the budget gets 429 with Retry-After and a JSON-RPC error; another identity, /health and the host app are still served', async (t) => {
    const { app, baseUrl } = await startApp(t, { auth: TOKENS, rateLimit: { max: 5 } })
    const mcpUrl = `${baseUrl}/mcp`
    for (let i = 0; i < 5; i++) assert.equal((await ping(mcpUrl)).status, 200, `request ${i + 1} of 5`)
    assertRateLimited(await ping(mcpUrl), null, /more than 5 requests in 60 s, its rate limit/)
    assertRateLimited(await callAdd(mcpUrl, 7), null, /rate limit/)
    // A refused request is not a way around auth: without a token it is still 401.
    assert.equal((await post(mcpUrl, rpc('ping'))).status, 401)

    assert.equal((await ping(mcpUrl, SECOND)).status, 200)
    assert.deepEqual((await callAdd(mcpUrl, 8, SECOND)).json.result.structuredContent, { sum: 3 })
    assert.equal((await request(`${baseUrl}/health`)).status, 200)
    assert.equal(app.mcp.status().status, 'ok')
  })

  test('an SDK client over budget gets an error that says so, and a new client of another identity works', async (t) => {
    const { baseUrl } = await startApp(t, { auth: TOKENS, rateLimit: { max: 4 } })
    const client = await connectHttp(t, `${baseUrl}/mcp`, TOKEN)
    // Connecting took some of the budget (initialize, notifications/initialized, the GET the SDK tries).
    assert.deepEqual((await client.callTool({ name: 'add', arguments: { a: 2, b: 2 } })).structuredContent, { sum: 4 })
    let refusal: unknown
    for (let i = 0; i < 4 && refusal === undefined; i++) {
      await client.callTool({ name: 'add', arguments: { a: 2, b: 2 } }).catch((error: unknown) => { refusal = error })
    }
    assert.match(String(refusal), /rate limit; retry in \d+ s/)
    const other = await connectHttp(t, `${baseUrl}/mcp`, SECOND_TOKEN)
    assert.deepEqual((await other.callTool({ name: 'add', arguments: { a: 2, b: 2 } })).structuredContent, { sum: 4 })
  })

  test('the budget comes back when the window ends', async (t) => {
    const { baseUrl } = await startApp(t, { rateLimit: { max: 1, timeWindowMs: 1000 } })
    const mcpUrl = `${baseUrl}/mcp`
    assert.equal((await ping(mcpUrl)).status, 200)
    assertRateLimited(await ping(mcpUrl), null, /more than 1 requests in 1 s/)
    await waitFor('the window to end', async () => (await ping(mcpUrl)).status === 200, 5000)
  })

  test('without auth the budget is per client address', async (t) => {
    const { baseUrl } = await startApp(t, { auth: false, rateLimit: { max: 3 } })
    const mcpUrl = `${baseUrl}/mcp`
    const first = []
    for (let i = 0; i < 4; i++) first.push(await pingFrom(mcpUrl, '127.0.0.2'))
    assert.deepEqual(first, [200, 200, 200, 429])
    assert.equal(await pingFrom(mcpUrl, '127.0.0.3'), 200)
  })

  test('calls of a limited tool per caller: the call over budget gets 429 with its id and the tool\'s name; other tools and callers go on', async (t) => {
    const { baseUrl } = await startApp(t, { auth: TOKENS, rateLimit: { tools: [{ name: 'add', max: 2 }] } })
    const mcpUrl = `${baseUrl}/mcp`
    assert.equal((await callAdd(mcpUrl, 1)).status, 200)
    assert.equal((await callAdd(mcpUrl, 2)).status, 200)
    assertRateLimited(await callAdd(mcpUrl, 3), 3, /called the tool "add" more than 2 times in 60 s/)
    // Requests as a whole are not limited, nor other tools.
    for (let i = 0; i < 20; i++) assert.equal((await ping(mcpUrl)).status, 200)
    const echo = await post(mcpUrl, rpc('tools/call', { name: 'echo', arguments: { text: 'still here' } }, 4), AUTH_HEADER)
    assert.equal(echo.json.result.content[0].text, 'still here')
    assert.equal((await callAdd(mcpUrl, 5, SECOND)).status, 200)
  })

  test('over legacy SSE a limited tool\'s call over budget gets 429 on its POST, and the stream goes on', async (t) => {
    const { baseUrl } = await startApp(t, { rateLimit: { tools: [{ name: 'add', max: 1 }] } })
    const session = await openSse(t, baseUrl)
    await session.send(rpc('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'rate', version: '1' } }, 0))
    await session.nextMessage()
    await session.send({ jsonrpc: '2.0', method: 'notifications/initialized' })
    assert.equal((await session.send(rpc('tools/call', { name: 'add', arguments: { a: 1, b: 1 } }, 1))).status, 202)
    assert.deepEqual((await session.nextMessage()).result.structuredContent, { sum: 2 })
    assertRateLimited(await session.send(rpc('tools/call', { name: 'add', arguments: { a: 1, b: 1 } }, 2)), 2, /"add"/)
    assert.equal((await session.send(rpc('ping', undefined, 3))).status, 202)
    assert.equal((await session.nextMessage()).id, 3)
  })

  test('bad settings are refused when the plugin is registered, naming the option', async (t) => {
    for (const rateLimit of [{ max: 0 }, { timeWindowMs: 10 }, { tools: [{ name: 'add' }] }, { perCaller: 5 }]) {
      const app = Fastify({ logger: false })
      t.after(async () => { await app.close() })
      await assert.rejects(async () => {
        await app.register(mcpPlugin, { auth: false, tools: fixtureTools, rateLimit } as unknown as McpPluginOptions)
        await app.ready()
      }, /rateLimit/, JSON.stringify(rateLimit))
    }
  })
})
