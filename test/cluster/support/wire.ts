import type { TestContext } from 'node:test'
import assert from 'node:assert/strict'
import type { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { Client as ModernClient, StreamableHTTPClientTransport as ModernHttpTransport } from '@modelcontextprotocol/client'
import { MCP_HEADERS, post, rpc, INITIALIZE_PARAMS, type RawResponse } from '../../helpers/raw-http.js'
import { getStream, openStream, type OpenStream } from '../../helpers/stateful-http.js'
import type { SseReader } from '../../helpers/sse-reader.js'
import { AUTH } from './cluster.js'
import type { RecordingFetch } from './recording-fetch.js'

/** A stateful session spoken to in raw HTTP, on whichever replica each request names. */
export interface ClusterSession {
  id: string
  /** POSTs a message of the session to `baseUrl`'s /mcp. */
  post: (baseUrl: string, body: unknown, headers?: Record<string, string>) => Promise<RawResponse>
  /** POSTs a request whose answer is read as a stream. */
  postStream: (baseUrl: string, body: unknown) => Promise<OpenStream>
  /** `GET /mcp` on `baseUrl`, resuming after `lastEventId` when given. */
  get: (baseUrl: string, lastEventId?: string) => Promise<OpenStream>
  delete: (baseUrl: string, headers?: Record<string, string>) => Promise<RawResponse>
}

/** `initialize` (and `notifications/initialized`) on `baseUrl`: a stateful session any replica can serve. */
export async function initializeOn (t: TestContext, baseUrl: string, headers: Record<string, string> = AUTH, capabilities: Record<string, unknown> = { elicitation: {} }): Promise<ClusterSession> {
  const response = await post(`${baseUrl}/mcp`, rpc('initialize', { ...INITIALIZE_PARAMS, capabilities }, 0), headers)
  const id = response.headers.get('mcp-session-id')
  if (response.status !== 200 || id === null) throw new Error(`initialize answered ${response.status} without a session: ${response.text}`)
  const withSession = (extra: Record<string, string> = headers): Record<string, string> => ({ ...extra, 'mcp-session-id': id, 'mcp-protocol-version': INITIALIZE_PARAMS.protocolVersion })
  const session: ClusterSession = {
    id,
    post: async (url, body, extra) => await post(`${url}/mcp`, body, withSession(extra)),
    postStream: async (url, body) => await openStream(t, `${url}/mcp`, { method: 'POST', headers: { ...MCP_HEADERS, ...withSession() }, body: JSON.stringify(body) }),
    get: async (url, lastEventId) => await getStream(t, `${url}/mcp`, id, lastEventId, withSession()),
    delete: async (url, extra) => await requestDelete(`${url}/mcp`, withSession(extra))
  }
  const initialized = await session.post(baseUrl, { jsonrpc: '2.0', method: 'notifications/initialized' })
  if (initialized.status !== 202) throw new Error(`notifications/initialized answered ${initialized.status}: ${initialized.text}`)
  return session
}

async function requestDelete (url: string, headers: Record<string, string>): Promise<RawResponse> {
  const response = await fetch(url, { method: 'DELETE', headers })
  const text = await response.text()
  let json: unknown
  try { json = JSON.parse(text) } catch { json = undefined }
  return { status: response.status, headers: response.headers, text, json }
}

/** One message of an event stream, with its event id. */
export interface StreamMessage { id: string | undefined, message: any }

/** Reads every message of `reader` into the returned array, in the background, until the stream ends. */
export function collect (reader: SseReader): { messages: StreamMessage[], ended: Promise<void> } {
  const messages: StreamMessage[] = []
  const ended = (async () => {
    try {
      for (let next = await reader.nextMessage(); next !== undefined; next = await reader.nextMessage()) messages.push(next)
    } catch { /* the connection broke: what arrived is kept */ }
  })()
  return { messages, ended }
}

/** A 2.x client pinned to the 2026-07-28 revision (no session), declaring elicitation; closed when the test ends. */
export async function connectModern (t: TestContext, baseUrl: string): Promise<ModernClient> {
  const client = new ModernClient({ name: 'cluster-modern', version: '1.0.0' }, {
    versionNegotiation: { mode: { pin: '2026-07-28' } },
    capabilities: { elicitation: { form: {} } }
  })
  await client.connect(new ModernHttpTransport(new URL(`${baseUrl}/mcp`), { requestInit: { headers: AUTH } }))
  t.after(async () => { await client.close() })
  return client
}

/** Polls until `check` holds; fails after `ms` naming `what`. */
export async function eventually (what: string, check: () => boolean | Promise<boolean>, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** The `_meta` every 2026-07-28 request carries in place of a session. */
export const MODERN_META = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {}
}

/** A 2026-07-28 `tools/call` in raw HTTP: no session, so any replica answers it alone (it never needs Redis). */
export async function callModern (baseUrl: string, name: string, args: Record<string, unknown>, id: number | string): Promise<RawResponse> {
  return await post(`${baseUrl}/mcp`, rpc('tools/call', { name, arguments: args, _meta: MODERN_META }, id),
    { ...AUTH, 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': name })
}

/**
 * Calls the `greet` tool three times; each call elicits a name, and the client's answer must go through the load
 * balancer to another replica than its call and still be accepted there (202), reaching the waiting handler.
 */
export async function greetWithAnswersElsewhere (
  client: Client,
  wire: RecordingFetch,
  elicited: unknown[]
): Promise<void> {
  for (let round = 0; round < 3; round++) {
    assert.deepEqual((await client.callTool({ name: 'greet', arguments: {} })).content, [{ type: 'text', text: 'Hello, Ada!' }])
  }
  assert.equal(elicited.length, 3)
  await wire.settled()
  const calls = wire.exchanges.filter((exchange) => exchange.rpc === 'tools/call')
  const answers = wire.exchanges.filter((exchange) => exchange.rpc === 'response')
  assert.equal(answers.length, 3)
  // Round robin sends the answer to another replica than the call (one request of another kind between them, too).
  calls.forEach((call, index) => { assert.notEqual(answers[index].upstream, call.upstream, `answer ${index} went elsewhere`) })
  assert.deepEqual(answers.map((exchange) => exchange.status), [202, 202, 202])
}
