import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { startApp, TOKEN, SECOND_TOKEN } from '../helpers/app.js'
import { connectHttp } from '../helpers/clients.js'
import { MCP_HEADERS, post, rpc } from '../helpers/raw-http.js'
import { parseBearer } from '../../plugin/auth/bearer-auth.js'
import { createTokenMatcher, sameSecret, tokenFingerprint } from '../../plugin/auth/token-matcher.js'

const whoami = rpc('tools/call', { name: 'whoami', arguments: {} })

/** A POST on a given agent (fetch gives no control over which connection a request uses). */
async function postOn (agent: http.Agent, url: string, body: unknown, authorization: string | undefined): Promise<{ status: number, json: any }> {
  const headers: Record<string, string> = { ...MCP_HEADERS }
  if (authorization !== undefined) headers.authorization = authorization
  return await new Promise((resolve, reject) => {
    const request = http.request(url, { method: 'POST', agent, headers }, (response) => {
      let text = ''
      response.setEncoding('utf8').on('data', (chunk: string) => { text += chunk }).on('end', () => {
        resolve({ status: response.statusCode ?? 0, json: JSON.parse(text) })
      })
    })
    request.on('error', reject)
    request.end(JSON.stringify(body))
  })
}

describe('bearer auth on POST /mcp', () => {
  test('a request without an Authorization header gets 401 with a Bearer challenge', async (t) => {
    const { baseUrl } = await startApp(t)
    const response = await post(`${baseUrl}/mcp`, rpc('ping'))
    assert.equal(response.status, 401)
    assert.equal(response.headers.get('www-authenticate'), 'Bearer realm="mcp"')
    assert.match(response.json.error.message, /Missing credentials: send the header "Authorization: Bearer <token>"/)
  })

  test('a non-Bearer scheme gets 401 saying the Bearer scheme is required', async (t) => {
    const { baseUrl } = await startApp(t)
    for (const header of [`Basic ${TOKEN}`, TOKEN, 'Bearer', `Bearer ${TOKEN} extra`]) {
      const response = await post(`${baseUrl}/mcp`, rpc('ping'), { authorization: header })
      assert.equal(response.status, 401, header)
      assert.match(response.headers.get('www-authenticate') ?? '', /error="invalid_request"/)
      assert.match(response.json.error.message, /must use the Bearer scheme/)
    }
  })

  test('a token with non-ASCII characters matches the UTF-8 bytes a client sends', async (t) => {
    const token = 'tökén-ünïcode-Ω-0123456789'
    const { baseUrl } = await startApp(t, { auth: { tokens: [{ token, id: 'unicode' }] } })
    // A header carries bytes; fetch takes them as a latin1 string, one character per byte.
    const utf8Bytes = Buffer.from(token, 'utf8').toString('latin1')
    const accepted = await post(`${baseUrl}/mcp`, whoami, { authorization: `Bearer ${utf8Bytes}` })
    assert.equal(accepted.status, 200)
    assert.equal(accepted.json.result.structuredContent.identity, 'unicode')
    assert.equal((await post(`${baseUrl}/mcp`, whoami, { authorization: `Bearer ${utf8Bytes.slice(0, -1)}x` })).status, 401)
  })

  test('a wrong token gets 401 with error="invalid_token"', async (t) => {
    const { baseUrl } = await startApp(t)
    for (const token of ['wrong', `${TOKEN}x`, TOKEN.slice(0, -1)]) {
      const response = await post(`${baseUrl}/mcp`, rpc('ping'), { authorization: `Bearer ${token}` })
      assert.equal(response.status, 401, token)
      assert.match(response.headers.get('www-authenticate') ?? '', /error="invalid_token"/)
      assert.match(response.json.error.message, /Invalid bearer token/)
      assert.doesNotMatch(response.json.error.message, /MCP_TOKEN/, 'plugin users are not told about node server variables')
      assert.ok(!response.text.includes(token), 'the refusal does not echo the token')
    }
  })

  test('the right token is accepted, with any casing of the scheme', async (t) => {
    const { baseUrl } = await startApp(t)
    for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
      const response = await post(`${baseUrl}/mcp`, rpc('ping'), { authorization: `${scheme} ${TOKEN}` })
      assert.equal(response.status, 200, scheme)
    }
  })

  test('both tokens of a rotated pair work, each as its own identity', async (t) => {
    const { baseUrl } = await startApp(t, { auth: { tokens: [TOKEN, SECOND_TOKEN] } })
    const first = await post(`${baseUrl}/mcp`, whoami, { authorization: `Bearer ${TOKEN}` })
    const second = await post(`${baseUrl}/mcp`, whoami, { authorization: `Bearer ${SECOND_TOKEN}` })
    assert.equal(first.json.result.structuredContent.identity, tokenFingerprint(TOKEN))
    assert.equal(second.json.result.structuredContent.identity, tokenFingerprint(SECOND_TOKEN))
    assert.notEqual(first.json.result.structuredContent.identity, second.json.result.structuredContent.identity)
  })

  test('named tokens share one identity', async (t) => {
    const { baseUrl } = await startApp(t, { auth: { tokens: [{ token: TOKEN, id: 'ci-bot' }, { token: SECOND_TOKEN, id: 'ci-bot' }] } })
    for (const token of [TOKEN, SECOND_TOKEN]) {
      const response = await post(`${baseUrl}/mcp`, whoami, { authorization: `Bearer ${token}` })
      assert.equal(response.json.result.structuredContent.identity, 'ci-bot')
    }
  })

  test('a verify function decides, and its identity reaches the handler', async (t) => {
    const { baseUrl } = await startApp(t, {
      auth: { verify: async (token) => token === 'let-me-in' ? { id: 'alice', scopes: ['read'] } : null }
    })
    const accepted = await post(`${baseUrl}/mcp`, whoami, { authorization: 'Bearer let-me-in' })
    assert.equal(accepted.json.result.structuredContent.identity, 'alice')
    const refused = await post(`${baseUrl}/mcp`, whoami, { authorization: `Bearer ${TOKEN}` })
    assert.equal(refused.status, 401)
  })

  test('a verify function that throws is a 500 with a JSON-RPC body, and the next request is served', async (t) => {
    let calls = 0
    const { baseUrl } = await startApp(t, {
      auth: { verify: () => { calls++; if (calls === 1) throw new Error('identity provider down'); return { id: 'bob' } } }
    })
    const failed = await post(`${baseUrl}/mcp`, rpc('ping'), { authorization: 'Bearer x' })
    assert.equal(failed.status, 500)
    assert.equal(failed.json.error.code, -32603)
    assert.ok(!failed.text.includes('identity provider down'), 'internal errors are not leaked')
    const next = await post(`${baseUrl}/mcp`, rpc('ping'), { authorization: 'Bearer x' })
    assert.equal(next.status, 200)
  })

  test('on one keep-alive connection every request is judged by its own header', async (t) => {
    const { app, baseUrl } = await startApp(t, { auth: { tokens: [TOKEN, SECOND_TOKEN] } })
    let connections = 0
    app.server.on('connection', () => { connections++ })
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
    t.after(() => { agent.destroy() })
    const sequence = [`Bearer ${TOKEN}`, `Bearer ${TOKEN}x`, `Bearer ${TOKEN}`, undefined, `Bearer ${SECOND_TOKEN}`, `Bearer ${TOKEN.slice(0, -1)}`, `Bearer ${TOKEN}`]
    const seen: Array<[number, string | null]> = []
    for (const authorization of sequence) {
      const response = await postOn(agent, `${baseUrl}/mcp`, whoami, authorization)
      seen.push([response.status, response.status === 200 ? response.json.result.structuredContent.identity : null])
    }
    assert.equal(connections, 1, 'all requests shared one connection')
    assert.deepEqual(seen, [
      [200, tokenFingerprint(TOKEN)], [401, null], [200, tokenFingerprint(TOKEN)], [401, null],
      [200, tokenFingerprint(SECOND_TOKEN)], [401, null], [200, tokenFingerprint(TOKEN)]
    ])
  })

  test('a verify function is asked on every request, even on one keep-alive connection', async (t) => {
    let calls = 0
    const { baseUrl } = await startApp(t, { auth: { verify: (token) => { calls++; return calls <= 2 && token === 'let-me-in' ? { id: 'alice' } : null } } })
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
    t.after(() => { agent.destroy() })
    const statuses = []
    for (let i = 0; i < 3; i++) statuses.push((await postOn(agent, `${baseUrl}/mcp`, whoami, 'Bearer let-me-in')).status)
    assert.deepEqual(statuses, [200, 200, 401], 'the third request saw the verify function change its mind')
    assert.equal(calls, 3)
  })

  test('auth: false serves without credentials and handlers see no identity', async (t) => {
    const { baseUrl } = await startApp(t, { auth: false })
    const response = await post(`${baseUrl}/mcp`, whoami)
    assert.equal(response.status, 200)
    assert.equal(response.json.result.structuredContent.identity, null)
  })

  test('the SDK client sends its configured Authorization header', async (t) => {
    const { baseUrl } = await startApp(t)
    const client = await connectHttp(t, `${baseUrl}/mcp`, TOKEN)
    const result = await client.callTool({ name: 'whoami', arguments: {} })
    assert.equal((result.structuredContent as { identity: string }).identity, tokenFingerprint(TOKEN))
  })

  test('the health check needs no auth', async (t) => {
    const { baseUrl } = await startApp(t)
    const response = await fetch(`${baseUrl}/health`)
    assert.equal(response.status, 200)
  })
})

describe('token parsing and matching', () => {
  test('parseBearer takes the token after the Bearer scheme and refuses other shapes', () => {
    assert.deepEqual(parseBearer('Bearer abc'), { token: 'abc' })
    assert.deepEqual(parseBearer('bearer  abc '), { token: 'abc' })
    assert.deepEqual(parseBearer(undefined), { refusal: 'missing' })
    assert.deepEqual(parseBearer(''), { refusal: 'missing' })
    assert.deepEqual(parseBearer('Token abc'), { refusal: 'scheme' })
    assert.deepEqual(parseBearer('Bearer a b'), { refusal: 'scheme' })
    assert.deepEqual(parseBearer('Bearer a\tb'), { refusal: 'scheme' })
    assert.deepEqual(parseBearer('Bearer '), { refusal: 'scheme' })
    assert.deepEqual(parseBearer('Bearer\tabc'), { token: 'abc' })
    assert.deepEqual(parseBearer('BEARER abc'), { token: 'abc' })
  })

  test('the matcher finds the identity of any known token, whatever the lengths', () => {
    const match = createTokenMatcher(['short', { token: 'a-much-longer-token-value', id: 'named' }])
    assert.equal(match('short')?.id, tokenFingerprint('short'))
    assert.equal(match('a-much-longer-token-value')?.id, 'named')
    assert.equal(match('shor'), null)
    assert.equal(match(''), null)
    assert.equal(match('a-much-longer-token-value!'), null)
  })

  test('sameSecret tells equal strings from any difference, wherever it is and whatever the lengths', () => {
    const known = 'Bearer secret-token-value'
    assert.equal(sameSecret(known, known), true)
    assert.equal(sameSecret(`${known}`.slice(0), known), true)
    for (const presented of ['Xearer secret-token-value', 'Bearer secret-token-valuX', 'Bearer secret-token-valu', `${known}e`, '', 'B', `${known}${known}`]) {
      assert.equal(sameSecret(presented, known), false, presented)
    }
  })

  test('fingerprints are stable and do not contain the token', () => {
    assert.equal(tokenFingerprint('secret-value'), tokenFingerprint('secret-value'))
    assert.match(tokenFingerprint('secret-value'), /^token-[0-9a-f]{8}$/)
    assert.notEqual(tokenFingerprint('a'), tokenFingerprint('b'))
  })
})
