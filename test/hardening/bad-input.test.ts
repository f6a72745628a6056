import { test, describe, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import type { OutgoingHttpHeaders } from 'node:http'
import { startApp, TOKEN, SECOND_TOKEN, AUTH_HEADER } from '../helpers/app.js'
import { defineResource } from '../../plugin/core.js'
import { MCP_HEADERS, rpc, INITIALIZE_PARAMS } from '../helpers/raw-http.js'
import { openSse, type RawSseSession } from '../helpers/sse-client.js'
import { startStatefulApp, initializeSession } from '../helpers/stateful-http.js'
import { assertJsonRpcMessage, assertJsonRpcResponse, send, sendRaw, watchProcessFaults, type WireRequest, type WireResponse } from './support.js'

/**
 * Table-driven bad input over real sockets, one table per endpoint. Each row is one request and what it must get:
 * the HTTP status, and either a JSON-RPC error `code` whose message matches `message`, or `code: null` for an
 * answer that is not a JSON-RPC error (a result or an empty 202, or a refusal by Node's HTTP parser or Fastify's
 * router before any MCP code ran), whose body text must match `message`. After every row the server must still
 * answer a ping, and after each table it must still answer ping and initialize. The stateless /mcp table has
 * 2026-07-28 rows too: requests whose `_meta` declares that era, checked against the revision's header rules.
 */
interface Row {
  description: string
  /** A request sent with node:http, or raw bytes for HTTP that node:http refuses to send. */
  request: WireRequest | { raw: string | Buffer }
  status: number
  code: number | null
  message: RegExp
  /** The JSON-RPC id the error must carry, when it matters. */
  id?: string | number | null
  /** Response headers that must be present with these values (a RegExp) or absent (null). */
  headers?: Record<string, RegExp | null>
  /** The most bytes the body may have: a refusal quotes what the client sent, cut short, never all of it. */
  maxBytes?: number
}

const JSON_HEADERS: OutgoingHttpHeaders = { ...MCP_HEADERS, ...AUTH_HEADER }
const PING = JSON.stringify(rpc('ping', undefined, 1))
const LIMIT = 64 * 1024

const HEADER_MISMATCH = -32020
const UNSUPPORTED_VERSION = -32022
const PARSE_ERROR = -32700
const INVALID_REQUEST = -32600
const METHOD_NOT_FOUND = -32601
const INVALID_PARAMS = -32602
const SERVER_ERROR = -32000

/** A POST of `body` to `path` with the MCP headers, some replaced (a null value drops the header). */
function postWith (path: string, body: string | object, headers: Record<string, string | string[] | null> = {}): WireRequest {
  const merged: OutgoingHttpHeaders = { ...JSON_HEADERS }
  for (const [name, value] of Object.entries(headers)) {
    if (value === null) delete merged[name]
    else merged[name] = value
  }
  return { method: 'POST', path, headers: merged, body }
}

/** Raw HTTP/1.1 bytes: a request line, the given header lines, and a body with its exact Content-Length. */
function rawRequest (host: string, head: string, headerLines: string[], body: Buffer | string = PING): Buffer {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body
  const lines = [head, `Host: ${host}`, ...headerLines, 'Connection: close', `Content-Length: ${bytes.length}`]
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), bytes])
}

const MCP_HEADER_LINES = ['Authorization: Bearer ' + TOKEN, 'Content-Type: application/json', 'Accept: application/json, text/event-stream']

/** Envelope rows every POST endpoint shares: what arrives is JSON, but not one JSON-RPC message. */
function envelopeRows (path: string): Row[] {
  const row = (description: string, body: string, code: number, message: RegExp, status = 400, id?: string | number | null): Row =>
    ({ description, request: postWith(path, body), status, code, message, id })
  return [
    row('malformed JSON gets 400 with -32700', '{"jsonrpc": "2.0", "id": 1, "method": ', PARSE_ERROR, /^Parse error: the request body is not valid JSON$/),
    row('a lone opening brace gets 400 with -32700', '{', PARSE_ERROR, /not valid JSON/),
    row('an empty body gets 400 with -32700 asking for one message', '', PARSE_ERROR, /the request body is empty; send one JSON-RPC message/),
    row('a body of whitespace gets 400 with -32700', ' \n\t ', PARSE_ERROR, /not valid JSON/),
    row('a __proto__ key is refused as a parse error', '{"jsonrpc":"2.0","id":1,"method":"ping","params":{"__proto__":{"admin":true}}}', PARSE_ERROR, /Parse error/),
    row('a constructor.prototype key is refused as a parse error', '{"jsonrpc":"2.0","id":1,"method":"ping","params":{"constructor":{"prototype":{"admin":true}}}}', PARSE_ERROR, /Parse error/),
    row('a JSON number is not a message: 400 with -32600', '42', INVALID_REQUEST, /a JSON object with "jsonrpc": "2.0"/, 400, null),
    row('a JSON string is not a message', '"ping"', INVALID_REQUEST, /a JSON object/),
    row('JSON null is not a message', 'null', INVALID_REQUEST, /a JSON object/),
    row('JSON true is not a message', 'true', INVALID_REQUEST, /a JSON object/),
    row('an empty batch is refused: batches were removed in 2025-06-18', '[]', INVALID_REQUEST, /batches are not supported/),
    row('a batch of one ping is refused', `[${PING}]`, INVALID_REQUEST, /batches are not supported/),
    row('"jsonrpc": "1.0" gets -32600 with the request id', '{"jsonrpc":"1.0","id":"v1","method":"ping"}', INVALID_REQUEST, /"jsonrpc" member must be exactly "2.0"/, 400, 'v1'),
    row('"jsonrpc" as the number 2.0 gets -32600', '{"jsonrpc":2.0,"id":1,"method":"ping"}', INVALID_REQUEST, /exactly "2.0"/),
    row('a message without "jsonrpc" gets -32600', '{"id":1,"method":"ping"}', INVALID_REQUEST, /exactly "2.0"/),
    row('a message with neither method nor result gets -32600', '{"jsonrpc":"2.0","id":7}', INVALID_REQUEST, /needs a "method"/, 400, 7),
    row('a numeric method gets -32600', '{"jsonrpc":"2.0","id":1,"method":42}', INVALID_REQUEST, /"method" member must be a non-empty string/),
    row('an empty method gets -32600', '{"jsonrpc":"2.0","id":1,"method":""}', INVALID_REQUEST, /non-empty string/),
    row('a null method gets -32600', '{"jsonrpc":"2.0","id":1,"method":null}', INVALID_REQUEST, /non-empty string/),
    row('an object id gets -32600 with a null id', '{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}', INVALID_REQUEST, /"id" member must be a string or a number/, 400, null),
    row('an array id gets -32600', '{"jsonrpc":"2.0","id":[1],"method":"ping"}', INVALID_REQUEST, /"id" member must be a string or a number/),
    row('a null id on a request gets -32600', '{"jsonrpc":"2.0","id":null,"method":"ping"}', INVALID_REQUEST, /null ids are not allowed/),
    row('a boolean id gets -32600', '{"jsonrpc":"2.0","id":true,"method":"ping"}', INVALID_REQUEST, /string or a number/),
    row('an id of 1e400 (Infinity once parsed) gets -32600', '{"jsonrpc":"2.0","id":1e400,"method":"ping"}', INVALID_REQUEST, /string or a number/),
    row('params as an array gets -32600', '{"jsonrpc":"2.0","id":1,"method":"ping","params":[1,2]}', INVALID_REQUEST, /"params" member, when present, must be an object/),
    row('params as a string gets -32600', '{"jsonrpc":"2.0","id":1,"method":"ping","params":"x"}', INVALID_REQUEST, /must be an object/),
    row('params null gets -32600', '{"jsonrpc":"2.0","id":1,"method":"ping","params":null}', INVALID_REQUEST, /must be an object/),
    row('a response whose result is not an object gets -32600', '{"jsonrpc":"2.0","id":1,"result":5}', INVALID_REQUEST, /"result" object or an "error" object/),
    row('a body over bodyLimit gets 413', JSON.stringify(rpc('ping', { padding: 'x'.repeat(LIMIT) })), SERVER_ERROR, /^Payload Too Large/, 413)
  ]
}

/** Content-Type rows every POST endpoint shares. */
function contentTypeRows (path: string): Row[] {
  const row = (description: string, contentType: string | null): Row =>
    ({ description, request: postWith(path, PING, { 'content-type': contentType }), status: 415, code: SERVER_ERROR, message: /Unsupported Media Type: send the JSON-RPC message with "Content-Type: application\/json"/ })
  return [
    row('a missing Content-Type gets 415', null),
    row('Content-Type text/plain gets 415', 'text/plain'),
    row('a form-encoded body gets 415', 'application/x-www-form-urlencoded'),
    row('a multipart body gets 415', 'multipart/form-data; boundary=xyz'),
    row('application/json-patch+json is not JSON-RPC: 415', 'application/json-patch+json'),
    row('a garbage Content-Type gets 415', ';;;')
  ]
}

/** Host and Origin rows (DNS-rebinding protection) every MCP route shares. */
function rebindingRows (method: string, path: string): Row[] {
  const base = method === 'GET' ? { method, path, headers: AUTH_HEADER } : postWith(path, PING)
  const row = (description: string, headers: OutgoingHttpHeaders, message: RegExp): Row =>
    ({ description, request: { ...base, headers: { ...base.headers, ...headers } }, status: 403, code: SERVER_ERROR, message })
  return [
    row('a foreign Host gets 403 (DNS rebinding)', { host: 'evil.example' }, /Host "evil.example" is not allowed.*allowedHosts/),
    row('a foreign Host that only starts like localhost gets 403', { host: 'localhost.evil.example' }, /Host "localhost.evil.example" is not allowed/),
    row('a foreign Origin gets 403', { origin: 'http://evil.example' }, /Origin "http:\/\/evil.example" is not allowed.*allowedOrigins/),
    row('Origin: null gets 403', { origin: 'null' }, /Origin "null" is not allowed/),
    row('an Origin that is not a URL gets 403', { origin: 'not a url' }, /Origin "not a url" is not allowed/),
    { ...row('a 15 KB Host gets 403 quoting only its first 64 characters', { host: `${'h'.repeat(15_000)}.example` }, /^Forbidden: Host "h{64}…" is not allowed/), maxBytes: 600 },
    { ...row('a 15 KB Origin gets 403 quoting only its first 64 characters', { origin: `http://${'o'.repeat(15_000)}.example` }, /^Forbidden: Origin "http:\/\/o{57}…" is not allowed/), maxBytes: 600 }
  ]
}

const CHALLENGE = /^Bearer realm="mcp"/

/** Every way to present credentials wrongly; each must get 401 with a Bearer challenge, before any body is read. */
function authRows (base: WireRequest): Row[] {
  const row = (description: string, authorization: string | string[] | null, message: RegExp, extra: Partial<WireRequest> = {}): Row => {
    const headers: Record<string, number | string | string[] | undefined> = { ...base.headers }
    delete headers.authorization
    if (authorization !== null) headers.authorization = authorization
    return { description, request: { ...base, ...extra, headers }, status: 401, code: SERVER_ERROR, message, headers: { 'www-authenticate': CHALLENGE } }
  }
  const missing = /^Missing credentials: send the header "Authorization: Bearer <token>"$/
  const scheme = /must use the Bearer scheme/
  const invalid = /^Invalid bearer token/
  return [
    row('no Authorization header gets 401 asking for one', null, missing),
    row('an empty Authorization header gets 401 asking for one', '', missing),
    row('Basic credentials get 401 asking for the Bearer scheme', 'Basic dXNlcjpwYXNz', scheme),
    row('a bare "Bearer" gets 401 asking for the Bearer scheme', 'Bearer', scheme),
    row('a token followed by a second word gets 401', `Bearer ${TOKEN} extra`, scheme),
    row('another scheme carrying the right token gets 401', `Token ${TOKEN}`, scheme),
    row('a wrong token gets 401 invalid_token', 'Bearer not-the-token', invalid),
    row('a prefix of the right token gets 401', `Bearer ${TOKEN.slice(0, -1)}`, invalid),
    row('the right token with one more character gets 401', `Bearer ${TOKEN}x`, invalid),
    row('the right token in other letter case gets 401', `Bearer ${TOKEN.toUpperCase()}`, invalid),
    row('an 8 KB token gets 401', `Bearer ${'k'.repeat(8192)}`, invalid),
    row('a token with Latin-1 bytes gets 401', 'Bearer t\xf6k\xe9n', invalid),
    row('a wrong Authorization header before the right one gets 401 (the first one counts)', ['Bearer not-the-token', `Bearer ${TOKEN}`], invalid),
    row('a token in the query string instead of the header gets 401', null, missing, { path: `${base.path}${base.path.includes('?') ? '&' : '?'}access_token=${TOKEN}` }),
    ...base.method === 'GET'
      ? []
      : [
          row('malformed JSON without credentials gets 401, not a parse error: auth comes before the body', null, missing, { body: '{bad' }),
          row('an oversized body without credentials gets 401, not 413', null, missing, { body: 'x'.repeat(LIMIT * 2) })
        ]
  ]
}

/** Malformed HTTP: Node's parser (or its Host rule) refuses it before Fastify routes it, with no JSON-RPC body. */
function parserRows (host: string, path: string): Row[] {
  const row = (description: string, raw: string | Buffer, status = 400, message = /Bad Request|^0\r\n\r\n$|^$/): Row =>
    ({ description, request: { raw }, status, code: null, message })
  const head = `POST ${path} HTTP/1.1`
  const withBody = Buffer.from('{"jsonrpc":"2.0","id":"\uFFFD","method":"ping"}')
  return [
    row('a header value with a bare CR (header injection) gets 400 from the parser', rawRequest(host, head, [...MCP_HEADER_LINES, 'X-Note: a\rSet-Cookie: b'])),
    row('a header value with a bare LF (header injection) gets 400 from the parser', rawRequest(host, head, [...MCP_HEADER_LINES, 'X-Note: a\nSet-Cookie: b'])),
    row('a NUL byte in a header value gets 400 from the parser', rawRequest(host, head, [...MCP_HEADER_LINES, 'X-Note: a\x00b'])),
    row('an obsolete folded header line gets 400 from the parser', rawRequest(host, head, [...MCP_HEADER_LINES, 'X-Note: a', '  folded'])),
    row('a header name with a space gets 400 from the parser', rawRequest(host, head, [...MCP_HEADER_LINES, 'Bad Name: x'])),
    row('two Content-Length headers (request smuggling) get 400', rawRequest(host, head, [...MCP_HEADER_LINES, 'Content-Length: 3'])),
    row('Content-Length with Transfer-Encoding (request smuggling) gets 400', rawRequest(host, head, [...MCP_HEADER_LINES, 'Transfer-Encoding: chunked'])),
    row('a space in the request target gets 400 from the parser', rawRequest(host, `POST ${path} x HTTP/1.1`, MCP_HEADER_LINES)),
    row('an HTTP/1.1 request without Host gets 400', Buffer.from(`${head}\r\n${MCP_HEADER_LINES.join('\r\n')}\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(PING)}\r\n\r\n${PING}`)),
    row('header fields beyond 16 KB get 431 from the parser', rawRequest(host, head, [...MCP_HEADER_LINES, `X-Big: ${'a'.repeat(20_000)}`]), 431, /Request Header Fields Too Large/),
    row('a CRLF percent-encoded in the query is only data: no header is injected', rawRequest(host, `POST ${path}${path.includes('?') ? '&' : '?'}x=%0d%0aSet-Cookie:%20a=b HTTP/1.1`, MCP_HEADER_LINES, withBody), 0, /^$|"result":\{\}/)
  ]
}

const MODERN = '2026-07-28'
const MODERN_META = { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientCapabilities': {} }

/** A 2026-07-28 request: the era in `_meta` and the revision's headers, any of them replaced or dropped (null). */
function modern (method: string, params: Record<string, unknown> = {}, headers: Record<string, string | null> = {}, meta: Record<string, unknown> = MODERN_META): WireRequest {
  return postWith('/mcp', rpc(method, { ...params, _meta: meta }, `modern-${method}`), { 'mcp-protocol-version': MODERN, 'mcp-method': method, ...headers })
}

/** 2026-07-28 requests that break the revision's rules on Streamable HTTP, and a few that keep them. */
function modernRows (): Row[] {
  const add = { name: 'add', arguments: { a: 1, b: 2 } }
  const mismatch = (description: string, request: WireRequest, message: RegExp): Row => ({ description, request, status: 400, code: HEADER_MISMATCH, message })
  return [
    mismatch('2026-07-28: a request without MCP-Protocol-Version gets 400 with -32020', modern('tools/list', {}, { 'mcp-protocol-version': null }), /the MCP-Protocol-Version header is required on every 2026-07-28 request/),
    mismatch('2026-07-28: a header version that differs from _meta gets 400 with -32020', modern('tools/list', {}, { 'mcp-protocol-version': '2025-11-25' }), /MCP-Protocol-Version "2025-11-25" differs from _meta protocolVersion "2026-07-28"/),
    mismatch('2026-07-28: a request without Mcp-Method gets 400 with -32020', modern('tools/list', {}, { 'mcp-method': null }), /the Mcp-Method header must repeat the body's method "tools\/list"$/),
    mismatch('2026-07-28: an Mcp-Method naming another method gets 400 with -32020', modern('tools/list', {}, { 'mcp-method': 'tools/call' }), /must repeat the body's method "tools\/list", got "tools\/call"/),
    mismatch('2026-07-28: tools/call without Mcp-Name gets 400 with -32020', modern('tools/call', add), /the Mcp-Name header must repeat "add"/),
    mismatch('2026-07-28: an Mcp-Name naming another tool gets 400 with -32020', modern('tools/call', add, { 'mcp-name': 'echo' }), /the Mcp-Name header must repeat "add"/),
    mismatch('2026-07-28: an Mcp-Name that is not valid base64 gets 400 with -32020', modern('tools/call', add, { 'mcp-name': '=?base64?!!!?=' }), /the Mcp-Name header must repeat "add"/),
    mismatch('2026-07-28: a made-up Mcp-Session-Id does not turn the header rules off: another tool in Mcp-Name gets 400', modern('tools/call', add, { 'mcp-name': 'echo', 'mcp-session-id': 'made-up' }), /the Mcp-Name header must repeat "add"/),
    mismatch('2026-07-28: a made-up Mcp-Session-Id does not turn the header rules off: no Mcp-Method gets 400', modern('tools/list', {}, { 'mcp-method': null, 'mcp-session-id': 'made-up' }), /the Mcp-Method header must repeat the body's method "tools\/list"$/),
    { description: '2026-07-28: the era\'s header alone, with a made-up Mcp-Session-Id, still needs _meta', request: postWith('/mcp', rpc('tools/list', {}, 'sid-no-meta'), { 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/list', 'mcp-session-id': 'made-up' }), status: 400, code: INVALID_PARAMS, message: /every 2026-07-28 request needs params._meta/, id: 'sid-no-meta' },
    { description: '2026-07-28: a header-only 2026 request without _meta gets 400 with -32602', request: postWith('/mcp', rpc('tools/list', {}, 'no-meta'), { 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/list' }), status: 400, code: INVALID_PARAMS, message: /every 2026-07-28 request needs params._meta/, id: 'no-meta' },
    { description: '2026-07-28: _meta without clientCapabilities gets 400 with -32602', request: modern('tools/list', {}, {}, { 'io.modelcontextprotocol/protocolVersion': MODERN }), status: 400, code: INVALID_PARAMS, message: /params._meta needs "io.modelcontextprotocol\/clientCapabilities"/ },
    { description: '2026-07-28: clientCapabilities that are not an object get 400 with -32602', request: modern('tools/list', {}, {}, { ...MODERN_META, 'io.modelcontextprotocol/clientCapabilities': 'all' }), status: 400, code: INVALID_PARAMS, message: /clientCapabilities/ },
    { description: '2026-07-28: a _meta protocolVersion that is not a string gets 400 with -32602', request: modern('tools/list', {}, {}, { ...MODERN_META, 'io.modelcontextprotocol/protocolVersion': 2026 }), status: 400, code: INVALID_PARAMS, message: /needs "io.modelcontextprotocol\/protocolVersion" \(a string/ },
    { description: '2026-07-28: an unknown later revision gets 400 with -32022 naming the supported ones', request: modern('tools/list', {}, { 'mcp-protocol-version': '2099-01-01' }, { ...MODERN_META, 'io.modelcontextprotocol/protocolVersion': '2099-01-01' }), status: 400, code: UNSUPPORTED_VERSION, message: /Unsupported protocol version "2099-01-01": this server speaks 2026-07-28/ },
    { description: '2026-07-28: a 10 KB protocol version is quoted short in the -32022 refusal and its data', request: modern('tools/list', {}, { 'mcp-protocol-version': 'v'.repeat(10_000) }, { ...MODERN_META, 'io.modelcontextprotocol/protocolVersion': 'v'.repeat(10_000) }), status: 400, code: UNSUPPORTED_VERSION, message: /^Unsupported protocol version "v{64}…": this server speaks 2026-07-28/, maxBytes: 600 },
    { description: '2026-07-28: an unknown method gets 404 with -32601', request: modern('tools/destroy'), status: 404, code: METHOD_NOT_FOUND, message: /Method not found/ },
    { description: '2026-07-28: initialize, removed in this era, gets 404 with -32601', request: modern('initialize', { protocolVersion: MODERN, capabilities: {}, clientInfo: { name: 'x', version: '1' } }), status: 404, code: METHOD_NOT_FOUND, message: /initialize/ },
    { description: '2026-07-28: wrong argument types are a tool error', request: modern('tools/call', { name: 'add', arguments: { a: 'one' } }, { 'mcp-name': 'add' }), status: 200, code: null, message: /"isError":true.*\/a must be number|\/a must be number.*"isError":true/ },
    { description: '2026-07-28: an Mcp-Name in base64 is accepted', request: modern('tools/call', add, { 'mcp-name': `=?base64?${Buffer.from('add').toString('base64')}?=` }), status: 200, code: null, message: /"structuredContent":\{"sum":3\}.*"resultType":"complete"/ },
    { description: '2026-07-28: a notification under the 2026 header gets 202', request: postWith('/mcp', { jsonrpc: '2.0', method: 'notifications/unheard-of' }, { 'mcp-protocol-version': MODERN }), status: 202, code: null, message: /^$/ }
  ]
}

/** Sends one row and returns what failed, or nothing when the row held. */
async function check (baseUrl: string, row: Row): Promise<string | undefined> {
  let response: WireResponse | { status: number, head: string, text: string, json: any, headers?: undefined }
  try {
    response = 'raw' in row.request ? await sendRaw(baseUrl, row.request.raw) : await send(baseUrl, row.request)
  } catch (error) {
    return `${row.description}: the request failed: ${(error as Error).message}`
  }
  try {
    if (row.status !== 0) assert.equal(response.status, row.status, 'status')
    else assert.ok(response.status > 0 && response.status < 500, `status ${response.status}`)
    assert.ok(!/set-cookie/i.test('head' in response ? response.head : JSON.stringify(response.headers)), 'no Set-Cookie header')
    if (row.code !== null) {
      assertJsonRpcResponse(response.json, 'body')
      assert.equal(response.json.error?.code, row.code, 'JSON-RPC error code')
      assert.match(response.json.error.message, row.message, 'JSON-RPC error message')
      if (row.id !== undefined) assert.equal(response.json.id, row.id, 'JSON-RPC id')
    } else {
      assert.match(response.text, row.message, 'body')
      if (response.status < 300 && response.text !== '') assertJsonRpcResponse(response.json, 'body')
    }
    if (row.maxBytes !== undefined) assert.ok(Buffer.byteLength(response.text) <= row.maxBytes, `a body of ${Buffer.byteLength(response.text)} bytes, at most ${row.maxBytes} expected`)
    for (const [name, expected] of Object.entries(row.headers ?? {})) {
      const value = response.headers?.[name]
      if (expected === null) assert.equal(value, undefined, `header ${name}`)
      else assert.match(String(value), expected, `header ${name}`)
    }
  } catch (error) {
    return `${row.description}: ${(error as Error).message.split('\n')[0]} (got ${response.status} ${response.text.slice(0, 200)})`
  }
  return undefined
}

/** Runs a table: every row, each followed by `alive()`; fails once at the end listing every row that did not hold. */
async function runTable (t: TestContext, baseUrl: string, rows: Row[], alive: () => Promise<void>): Promise<void> {
  t.diagnostic(`${rows.length} bad inputs`)
  const failures: string[] = []
  for (const row of rows) {
    const failure = await check(baseUrl, row)
    if (failure !== undefined) failures.push(failure)
    try {
      await alive()
    } catch (error) {
      failures.push(`${row.description}: the server did not answer the next request: ${(error as Error).message}`)
    }
  }
  assert.deepEqual(failures, [], `${failures.length} of ${rows.length} rows did not hold`)
}

/** A stateless ping on POST /mcp must come back as `{ result: {} }`. */
async function pingStateless (baseUrl: string): Promise<void> {
  const response = await send(baseUrl, postWith('/mcp', rpc('ping', undefined, 'alive')))
  assert.deepEqual(response.json, { jsonrpc: '2.0', id: 'alive', result: {} })
}

async function initializeStateless (baseUrl: string): Promise<void> {
  const response = await send(baseUrl, postWith('/mcp', rpc('initialize', INITIALIZE_PARAMS, 'init')))
  assert.equal(response.status, 200)
  assert.equal(response.json.result.protocolVersion, '2025-11-25')
}

function hostOf (baseUrl: string): string {
  return new URL(baseUrl).host
}

describe('bad input on POST /mcp (stateless)', () => {
  test('every malformed message gets its status and JSON-RPC error, and the server keeps serving', async (t) => {
    const faults = watchProcessFaults(t)
    const { baseUrl } = await startApp(t, { bodyLimit: LIMIT })
    const path = '/mcp'
    const rows: Row[] = [
      ...envelopeRows(path),
      ...contentTypeRows(path),
      { description: 'Content-Type in capitals is still JSON', request: postWith(path, PING, { 'content-type': 'APPLICATION/JSON' }), status: 200, code: null, message: /"result":\{\}/ },
      { description: 'Content-Type with a charset is still JSON', request: postWith(path, PING, { 'content-type': 'application/json; charset=utf-8' }), status: 200, code: null, message: /"result":\{\}/ },
      ...[null, 'text/html', 'application/json', 'text/event-stream', 'garbage'].map((accept): Row => ({
        description: `Accept ${accept === null ? 'missing' : `"${accept}"`} gets 406: both JSON and event streams must be accepted`,
        request: postWith(path, PING, { accept }),
        status: 406,
        code: SERVER_ERROR,
        message: /Not Acceptable: the Accept header must list both application\/json and text\/event-stream/
      })),
      { description: 'Accept */* is enough', request: postWith(path, PING, { accept: '*/*' }), status: 200, code: null, message: /"result":\{\}/ },
      ...['2099-01-01', 'garbage', '', '2025-11-25; drop table', 'x'.repeat(2000)].map((version): Row => ({
        description: `MCP-Protocol-Version "${version.slice(0, 24)}${version.length > 24 ? '…' : ''}" gets 400 naming the supported versions`,
        request: postWith(path, PING, { 'mcp-protocol-version': version }),
        status: 400,
        code: SERVER_ERROR,
        message: /unsupported MCP-Protocol-Version .*this server supports 2026-07-28, 2025-11-25, 2025-06-18/
      })),
      { description: 'a supported older MCP-Protocol-Version is served', request: postWith(path, PING, { 'mcp-protocol-version': '2025-03-26' }), status: 200, code: null, message: /"result":\{\}/ },
      { description: 'a garbage Mcp-Session-Id is ignored by a stateless server', request: postWith(path, PING, { 'mcp-session-id': '../../etc/passwd' }), status: 200, code: null, message: /"result":\{\}/ },
      { description: 'an 8 KB Mcp-Session-Id is ignored by a stateless server', request: postWith(path, PING, { 'mcp-session-id': 's'.repeat(8192) }), status: 200, code: null, message: /"result":\{\}/ },
      { description: 'an unknown method gets -32601 with its id', request: postWith(path, rpc('tools/destroy', {}, 'm1')), status: 200, code: METHOD_NOT_FOUND, message: /Method not found: "tools\/destroy"/, id: 'm1' },
      { description: 'tools/call without a name gets -32602', request: postWith(path, rpc('tools/call', {})), status: 200, code: INVALID_PARAMS, message: /needs "name"/ },
      { description: 'tools/call with a numeric name gets -32602', request: postWith(path, rpc('tools/call', { name: 5 })), status: 200, code: INVALID_PARAMS, message: /needs "name"/ },
      { description: 'tools/call of an unknown tool gets -32602', request: postWith(path, rpc('tools/call', { name: 'rm -rf /' })), status: 200, code: INVALID_PARAMS, message: /Unknown tool: "rm -rf \/"/ },
      { description: 'tools/call with arguments that are an array is a tool error', request: postWith(path, rpc('tools/call', { name: 'add', arguments: [1, 2] })), status: 200, code: null, message: /"isError":true.*"arguments" must be an object|"arguments\\" must be an object.*"isError":true/ },
      { description: 'tools/call with arguments of the wrong types is a tool error naming each path', request: postWith(path, rpc('tools/call', { name: 'add', arguments: { a: '1', b: null } })), status: 200, code: null, message: /\/a must be number.*\/b must be number/ },
      { description: 'an argument of 1e400 (Infinity once parsed) is not a number: a tool error', request: postWith(path, '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","arguments":{"a":1e400,"b":1}}}'), status: 200, code: null, message: /\/a must be number/ },
      { description: 'a sum that overflows to Infinity fails the output schema as a tool error', request: postWith(path, rpc('tools/call', { name: 'add', arguments: { a: 1.7e308, b: 1.7e308 } })), status: 200, code: null, message: /does not match its output schema/ },
      { description: 'an id beyond 2^53 is answered with the id as parsed', request: postWith(path, '{"jsonrpc":"2.0","id":123456789012345678901234567890,"method":"ping"}'), status: 200, code: null, message: /"id":1\.2345678901234568e\+29,"result":\{\}/ },
      { description: 'a fractional id is answered with that id', request: postWith(path, '{"jsonrpc":"2.0","id":1.5,"method":"ping"}'), status: 200, code: null, message: /"id":1\.5,"result":\{\}/ },
      { description: 'a duplicated key keeps its last value, as JSON.parse does', request: postWith(path, '{"jsonrpc":"2.0","id":1,"id":2,"method":"ping"}'), status: 200, code: null, message: /"id":2,"result":\{\}/ },
      { description: 'an id with a lone surrogate is echoed as JSON', request: postWith(path, '{"jsonrpc":"2.0","id":"\\ud800","method":"ping"}'), status: 200, code: null, message: /"id":"\\ud800","result":\{\}/ },
      { description: '20,000 levels of nested arrays in params are parsed and ignored by ping', request: postWith(path, `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"deep":${'['.repeat(20_000)}${']'.repeat(20_000)}}}`), status: 200, code: null, message: /"result":\{\}/ },
      { description: '10,000 levels of nested objects beside a tool\'s arguments do not reach its schema check', request: postWith(path, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","arguments":{"a":1,"b":2,"extra":${'{"x":'.repeat(10_000)}1${'}'.repeat(10_000)}}}}`), status: 200, code: null, message: /"structuredContent":\{"sum":3\}/ },
      { description: 'a notification with an unknown method gets 202 and no body', request: postWith(path, { jsonrpc: '2.0', method: 'notifications/unheard-of' }), status: 202, code: null, message: /^$/ },
      { description: 'a response nobody waited for gets 202 and no body', request: postWith(path, { jsonrpc: '2.0', id: 99, result: {} }), status: 202, code: null, message: /^$/ },
      { description: 'GET /mcp on a stateless server gets 405 with Allow: POST', request: { method: 'GET', path, headers: { ...AUTH_HEADER, accept: 'text/event-stream' } }, status: 405, code: SERVER_ERROR, message: /Method Not Allowed/, headers: { allow: /^POST$/ } },
      { description: 'DELETE /mcp on a stateless server gets 405', request: { method: 'DELETE', path, headers: AUTH_HEADER }, status: 405, code: SERVER_ERROR, message: /Method Not Allowed/ },
      { description: 'PUT /mcp is not a route: Fastify\'s 404', request: { ...postWith(path, PING), method: 'PUT' }, status: 404, code: null, message: /Route PUT:\/mcp not found/ },
      ...rebindingRows('POST', path),
      ...modernRows()
    ]
    await runTable(t, baseUrl, rows, async () => { await pingStateless(baseUrl) })
    await pingStateless(baseUrl)
    await initializeStateless(baseUrl)
    assert.deepEqual(faults, [])
  })

  test('every auth variant gets 401 with a Bearer challenge, and the right token still works', async (t) => {
    const { baseUrl } = await startApp(t, { bodyLimit: LIMIT })
    await runTable(t, baseUrl, authRows(postWith('/mcp', PING)), async () => { await pingStateless(baseUrl) })
    const lowerCase = await send(baseUrl, postWith('/mcp', rpc('ping', undefined, 'lc'), { authorization: `bearer   ${TOKEN}` }))
    assert.deepEqual(lowerCase.json, { jsonrpc: '2.0', id: 'lc', result: {} })
  })

  test('malformed HTTP is refused before any route, and the next request is served', async (t) => {
    const { baseUrl } = await startApp(t, { bodyLimit: LIMIT })
    await runTable(t, baseUrl, parserRows(hostOf(baseUrl), '/mcp'), async () => { await pingStateless(baseUrl) })
    await initializeStateless(baseUrl)
  })
})

describe('bad input on resources/read', () => {
  const resources = [
    defineResource({ uriTemplate: 'file://{name}.{ext}', name: 'file', handler: (_uri, { name, ext }) => `${name} ${ext}` }),
    defineResource({ uriTemplate: 'repo://{+path}/blob', name: 'blob', handler: (_uri, { path }) => path }),
    defineResource({ uriTemplate: 'broken://{+path}', name: 'broken', handler: () => { throw new Error('disk on fire') } })
  ]
  const read = (uri: string, id: string): WireRequest => postWith('/mcp', rpc('resources/read', { uri }, id))

  test('URIs built to make template matching slow, or too long to match, are refused at once', async (t) => {
    const faults = watchProcessFaults(t)
    const { baseUrl } = await startApp(t, { resources })
    const tooLong = /^URI too long: \d+ characters, and this server reads resource URIs of at most 8192; call resources\/list/
    const notFound = /^Resource not found: "[^"]{1,64}…?"\. Call resources\/list/
    const rows: Row[] = [
      { description: 'a 256 KiB URI of "a." against file://{name}.{ext} gets -32602 URI too long', request: read(`file://${'a.'.repeat(128 * 1024)}/`, 'dots'), status: 200, code: INVALID_PARAMS, message: tooLong, id: 'dots' },
      { description: 'a 256 KiB URI of "a/" against repo://{+path}/blob gets -32602 URI too long', request: read(`repo://${'a/'.repeat(128 * 1024)}x`, 'slashes'), status: 200, code: INVALID_PARAMS, message: tooLong },
      { description: 'a 700 KiB URI that fits no template gets -32602 URI too long', request: read(`x${'y'.repeat(700 * 1024)}`, 'long'), status: 200, code: INVALID_PARAMS, message: tooLong },
      { description: 'an 8 KiB URI that fits no template is not found, quoted short', request: read(`file://${'a.'.repeat(4000)}/`, 'cap'), status: 200, code: -32002, message: notFound },
      { description: 'a URI with a broken percent-escape fits no template', request: read('file://a%E0%A4%A.txt', 'escape'), status: 200, code: -32002, message: notFound },
      { description: 'a URI that fits a template is read', request: read('file://report.final.pdf', 'fits'), status: 200, code: null, message: /"text":"report.final pdf"/ },
      { description: 'an 8 KB URI whose handler throws is quoted short in the error', request: read(`broken://${'b'.repeat(8000)}`, 'broken'), status: 200, code: -32603, message: /^Reading "broken:\/\/b{55}…" failed: disk on fire$/, maxBytes: 600 }
    ]
    await runTable(t, baseUrl, rows, async () => { await pingStateless(baseUrl) })
    assert.deepEqual(faults, [])
  })
})

describe('bad input on GET /sse', () => {
  test('every refused stream request gets its status and JSON-RPC error, and streams still open', async (t) => {
    const faults = watchProcessFaults(t)
    const { app, baseUrl } = await startApp(t, { bodyLimit: LIMIT })
    const rows: Row[] = [
      ...authRows({ method: 'GET', path: '/sse', headers: { accept: 'text/event-stream' } }),
      ...rebindingRows('GET', '/sse'),
      { description: 'HEAD /sse is not a route (it would open and drop a session)', request: { method: 'HEAD', path: '/sse', headers: AUTH_HEADER }, status: 404, code: null, message: /^$/ },
      { description: 'POST /sse is not a route', request: postWith('/sse', PING), status: 404, code: null, message: /Route POST:\/sse not found/ },
      { description: 'DELETE /sse is not a route', request: { method: 'DELETE', path: '/sse', headers: AUTH_HEADER }, status: 404, code: null, message: /not found/ }
    ]
    await runTable(t, baseUrl, rows, async () => { await pingStateless(baseUrl) })
    assert.equal(app.mcp.status().sessions.sse, 0, 'no refused request left a session behind')
    const session = await openSse(t, baseUrl)
    assert.equal((await session.send(rpc('ping', undefined, 'sse-alive'))).status, 202)
    assert.deepEqual(await session.nextMessage(), { jsonrpc: '2.0', id: 'sse-alive', result: {} })
    assert.deepEqual(faults, [])
  })
})

/** Reads the stream's messages until the answer with `id`; every one must be a well-formed JSON-RPC message. */
async function readUntil (session: RawSseSession, id: string): Promise<any[]> {
  const seen: any[] = []
  for (;;) {
    const message = await session.nextMessage()
    assertJsonRpcMessage(message, `stream message ${JSON.stringify(message).slice(0, 120)}`)
    seen.push(message)
    if (message.id === id) return seen
  }
}

describe('bad input on POST /messages', () => {
  async function setup (t: TestContext): Promise<{ baseUrl: string, session: RawSseSession, closedPath: string }> {
    const { baseUrl } = await startApp(t, {
      bodyLimit: LIMIT,
      auth: { tokens: [{ token: TOKEN, id: 'alice' }, { token: SECOND_TOKEN, id: 'bob' }] }
    })
    const session = await openSse(t, baseUrl)
    const closed = await openSse(t, baseUrl)
    closed.disconnect()
    return { baseUrl, session, closedPath: closed.endpoint }
  }

  test('every malformed message gets its status and JSON-RPC error, and the session keeps answering', async (t) => {
    const faults = watchProcessFaults(t)
    const { baseUrl, session, closedPath } = await setup(t)
    const path = session.endpoint
    const notFound = /^Session not found: it expired, was closed, or belongs to another caller; open a new stream with GET \/sse$/
    const missing = /missing "sessionId" query parameter/
    const rows: Row[] = [
      { description: 'a POST without sessionId gets 400 saying where to POST', request: postWith('/messages', PING), status: 400, code: SERVER_ERROR, message: missing },
      { description: 'an empty sessionId gets 400', request: postWith('/messages?sessionId=', PING), status: 400, code: SERVER_ERROR, message: missing },
      { description: 'two sessionId parameters get 400', request: postWith(`${path}&sessionId=${session.sessionId}`, PING), status: 400, code: SERVER_ERROR, message: missing },
      { description: 'a garbage sessionId gets 404', request: postWith('/messages?sessionId=not-a-session', PING), status: 404, code: SERVER_ERROR, message: notFound },
      { description: 'a 4 KB sessionId gets 404', request: postWith(`/messages?sessionId=${'9'.repeat(4096)}`, PING), status: 404, code: SERVER_ERROR, message: notFound },
      { description: 'a sessionId with an encoded CRLF gets 404 and injects nothing', request: postWith('/messages?sessionId=a%0d%0aSet-Cookie:%20x=y', PING), status: 404, code: SERVER_ERROR, message: notFound },
      { description: 'the sessionId of a closed stream gets 404', request: postWith(closedPath, PING), status: 404, code: SERVER_ERROR, message: notFound },
      { description: 'another identity posting to the session gets 404, as if it did not exist', request: postWith(path, PING, { authorization: `Bearer ${SECOND_TOKEN}` }), status: 404, code: SERVER_ERROR, message: notFound },
      ...envelopeRows(path),
      ...contentTypeRows(path),
      { description: 'an Accept header the 2024-11-05 transport never asked for is not checked: 202', request: postWith(path, rpc('ping', undefined, 'accept-html'), { accept: 'text/html' }), status: 202, code: null, message: /^$/ },
      { description: 'an unknown method is accepted with 202; its -32601 travels on the stream', request: postWith(path, rpc('tools/destroy', {}, 'unknown-method')), status: 202, code: null, message: /^$/ },
      { description: 'an id beyond 2^53 is accepted with 202', request: postWith(path, '{"jsonrpc":"2.0","id":123456789012345678901234567890,"method":"ping"}'), status: 202, code: null, message: /^$/ },
      { description: '20,000 levels of nested arrays are accepted with 202', request: postWith(path, `{"jsonrpc":"2.0","id":"deep","method":"ping","params":{"deep":${'['.repeat(20_000)}${']'.repeat(20_000)}}}`), status: 202, code: null, message: /^$/ },
      { description: 'GET /messages is not a route', request: { method: 'GET', path, headers: AUTH_HEADER }, status: 404, code: null, message: /not found/ },
      ...rebindingRows('POST', path)
    ]
    await runTable(t, baseUrl, rows, async () => { await pingStateless(baseUrl) })
    assert.equal((await session.send(rpc('ping', undefined, 'sse-alive'))).status, 202)
    const seen = await readUntil(session, 'sse-alive')
    const byId = new Map(seen.map((message) => [String(message.id), message]))
    assert.equal(byId.get('unknown-method')?.error?.code, METHOD_NOT_FOUND)
    assert.deepEqual(byId.get('accept-html')?.result, {})
    assert.deepEqual(byId.get('deep')?.result, {})
    assert.deepEqual(byId.get('1.2345678901234568e+29')?.result, {})
    assert.equal((await session.send(rpc('initialize', { ...INITIALIZE_PARAMS, protocolVersion: '2024-11-05' }, 'sse-init'))).status, 202)
    const [init] = (await readUntil(session, 'sse-init')).slice(-1)
    assert.equal(init.result.protocolVersion, '2024-11-05')
    assert.deepEqual(faults, [])
  })

  test('every auth variant gets 401 with a Bearer challenge', async (t) => {
    const { baseUrl, session } = await setup(t)
    await runTable(t, baseUrl, authRows(postWith(session.endpoint, PING)), async () => { await pingStateless(baseUrl) })
    assert.equal((await session.send(rpc('ping', undefined, 'after-auth'))).status, 202)
    assert.deepEqual(await session.nextMessage(), { jsonrpc: '2.0', id: 'after-auth', result: {} })
  })

  test('malformed HTTP is refused before any route, and the session keeps answering', async (t) => {
    const { baseUrl, session } = await setup(t)
    await runTable(t, baseUrl, parserRows(hostOf(baseUrl), session.endpoint), async () => { await pingStateless(baseUrl) })
    assert.equal((await session.send(rpc('ping', undefined, 'after-parser'))).status, 202)
    const seen = await readUntil(session, 'after-parser')
    assert.deepEqual(seen.map((message) => message.id), ['\uFFFD', 'after-parser'], 'only the well-formed raw request was answered')
  })
})

describe('bad input on stateful /mcp', () => {
  test('every request with a bad session, header or body gets its status and JSON-RPC error, and the session keeps answering', async (t) => {
    const faults = watchProcessFaults(t)
    const { baseUrl, mcpUrl } = await startStatefulApp(t, {}, {
      bodyLimit: LIMIT,
      auth: { tokens: [{ token: TOKEN, id: 'alice' }, { token: SECOND_TOKEN, id: 'bob' }] }
    })
    const session = await initializeSession(mcpUrl)
    const inSession = (body: string | object, headers: Record<string, string | string[] | null> = {}): WireRequest =>
      postWith('/mcp', body, { 'mcp-session-id': session.id, ...headers })
    const get = (headers: OutgoingHttpHeaders): WireRequest => ({ method: 'GET', path: '/mcp', headers: { ...AUTH_HEADER, accept: 'text/event-stream', ...headers } })
    const notFound = /^Session not found: it expired, was ended, or belongs to another caller; send initialize without Mcp-Session-Id to start a new one$/
    const rows: Row[] = [
      { description: 'a request without Mcp-Session-Id gets 400 naming the header, with its id', request: postWith('/mcp', rpc('ping', undefined, 'no-session')), status: 400, code: SERVER_ERROR, message: /missing Mcp-Session-Id header/, id: 'no-session' },
      { description: 'an empty Mcp-Session-Id gets 400', request: inSession(PING, { 'mcp-session-id': '' }), status: 400, code: SERVER_ERROR, message: /missing Mcp-Session-Id/ },
      { description: 'a garbage Mcp-Session-Id gets 404', request: inSession(PING, { 'mcp-session-id': 'garbage' }), status: 404, code: SERVER_ERROR, message: notFound },
      { description: 'an 8 KB Mcp-Session-Id gets 404', request: inSession(PING, { 'mcp-session-id': 'f'.repeat(8192) }), status: 404, code: SERVER_ERROR, message: notFound },
      { description: 'a Mcp-Session-Id with Latin-1 bytes gets 404', request: inSession(PING, { 'mcp-session-id': `${session.id}\xe9` }), status: 404, code: SERVER_ERROR, message: notFound },
      { description: 'the session id sent twice (joined by Node) gets 404', request: inSession(PING, { 'mcp-session-id': [session.id, session.id] }), status: 404, code: SERVER_ERROR, message: notFound },
      { description: 'another identity using the session id gets 404', request: inSession(PING, { authorization: `Bearer ${SECOND_TOKEN}` }), status: 404, code: SERVER_ERROR, message: notFound },
      { description: 'initialize carrying a session id gets 400', request: inSession(rpc('initialize', INITIALIZE_PARAMS, 'reinit')), status: 400, code: INVALID_REQUEST, message: /initialize starts a new session; send it without Mcp-Session-Id/, id: 'reinit' },
      { description: 'initialize without protocolVersion gets -32602 and starts no session', request: postWith('/mcp', rpc('initialize', {}, 'bad-init')), status: 200, code: INVALID_PARAMS, message: /initialize needs "protocolVersion"/, headers: { 'mcp-session-id': null } },
      { description: 'GET without Accept text/event-stream gets 406', request: get({ accept: 'application/json', 'mcp-session-id': session.id }), status: 406, code: SERVER_ERROR, message: /Accept header must list text\/event-stream/ },
      { description: 'GET with a garbage session id gets 404', request: get({ 'mcp-session-id': 'garbage' }), status: 404, code: SERVER_ERROR, message: notFound },
      { description: 'GET without a session id gets 400', request: get({}), status: 400, code: SERVER_ERROR, message: /missing Mcp-Session-Id/ },
      { description: 'GET with a garbage Last-Event-ID gets 400', request: get({ 'mcp-session-id': session.id, 'last-event-id': 'garbage' }), status: 400, code: SERVER_ERROR, message: /Last-Event-ID "garbage.*" names no stream of this session/ },
      { description: 'GET with a Last-Event-ID of a stream never issued gets 400', request: get({ 'mcp-session-id': session.id, 'last-event-id': '999999999999999:1' }), status: 400, code: SERVER_ERROR, message: /names no stream/ },
      { description: 'GET with a 4 KB Last-Event-ID gets 400 quoting only its start', request: get({ 'mcp-session-id': session.id, 'last-event-id': '7'.repeat(4096) }), status: 400, code: SERVER_ERROR, message: /^Bad Request: Last-Event-ID "7{64}…" names no stream/ },
      { description: 'GET with an unsupported MCP-Protocol-Version gets 400', request: get({ 'mcp-session-id': session.id, 'mcp-protocol-version': '1.0' }), status: 400, code: SERVER_ERROR, message: /unsupported MCP-Protocol-Version "1.0"/ },
      { description: 'DELETE with a garbage session id gets 404', request: { method: 'DELETE', path: '/mcp', headers: { ...AUTH_HEADER, 'mcp-session-id': 'garbage' } }, status: 404, code: SERVER_ERROR, message: notFound },
      { description: 'DELETE of another identity\'s session gets 404', request: { method: 'DELETE', path: '/mcp', headers: { authorization: `Bearer ${SECOND_TOKEN}`, 'mcp-session-id': session.id } }, status: 404, code: SERVER_ERROR, message: notFound },
      { description: 'malformed JSON in the session gets 400 with -32700', request: inSession('{"jsonrpc":'), status: 400, code: PARSE_ERROR, message: /not valid JSON/ },
      { description: 'a batch in the session gets 400 with -32600', request: inSession(`[${PING}]`), status: 400, code: INVALID_REQUEST, message: /batches are not supported/ },
      { description: 'a body over bodyLimit in the session gets 413', request: inSession(JSON.stringify(rpc('ping', { padding: 'x'.repeat(LIMIT) }))), status: 413, code: SERVER_ERROR, message: /Payload Too Large/ },
      { description: 'a notification in the session gets 202 and no body', request: inSession({ jsonrpc: '2.0', method: 'notifications/unheard-of' }), status: 202, code: null, message: /^$/ },
      { description: '2026-07-28: a request of that era carrying the session id is checked by the era\'s header rules', request: { ...modern('tools/call', { name: 'add', arguments: { a: 1, b: 2 } }, { 'mcp-name': 'echo' }), headers: { ...modern('tools/call', {}, { 'mcp-name': 'echo' }).headers, 'mcp-session-id': session.id } }, status: 400, code: HEADER_MISMATCH, message: /the Mcp-Name header must repeat "add"/ },
      ...authRows(inSession(PING))
    ]
    const alive = async (): Promise<void> => {
      const response = await session.post(rpc('ping', undefined, 'alive'))
      assert.deepEqual(response.json, { jsonrpc: '2.0', id: 'alive', result: {} })
    }
    await runTable(t, baseUrl, rows, alive)
    await alive()
    await initializeSession(mcpUrl)
    assert.deepEqual(faults, [])
  })
})
