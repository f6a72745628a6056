import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js'
import { MCP_HEADERS, post, rpc, INITIALIZE_PARAMS } from '../helpers/raw-http.js'
import { openSse } from '../helpers/sse-client.js'
import { openStream } from '../helpers/stateful-http.js'
import { AUTH, startCluster } from './support/cluster.js'
import { recordingFetch, type RecordingFetch } from './support/recording-fetch.js'
import { CLUSTER_TOKEN, type Replica } from './support/replicas.js'
import { greetWithAnswersElsewhere } from './support/wire.js'

/** A second identity, to prove that a session answers only its owner wherever the message lands. */
const OTHER_TOKEN = 'cluster-test-other-token-9876543210'
const OTHER = { authorization: `Bearer ${OTHER_TOKEN}` }
/** Requests one SSE session may have running; the SDK clients below stay within it. */
const MAX_IN_FLIGHT = 8

interface SdkClient { client: Client, wire: RecordingFetch, errors: unknown[], elicited: string[] }

/** An SDK 1.x client over `transport`, answering elicitations with the name Ada; closed when the test ends. */
async function connectSdk (t: TestContext, name: string, transport: (wire: RecordingFetch) => SSEClientTransport | StreamableHTTPClientTransport): Promise<SdkClient> {
  const wire = recordingFetch()
  const client = new Client({ name, version: '1.0.0' }, { capabilities: { elicitation: {} } })
  const elicited: string[] = []
  client.setRequestHandler(ElicitRequestSchema, async (request) => {
    elicited.push(request.params.message)
    return { action: 'accept', content: { name: 'Ada' } }
  })
  const errors: unknown[] = []
  client.onerror = (error) => { errors.push(error) }
  await client.connect(transport(wire))
  t.after(async () => { await client.close() })
  return { client, wire, errors, elicited }
}

/** Runs `count` jobs, at most `width` at a time. */
async function inBatches (count: number, width: number, job: (index: number) => Promise<void>): Promise<void> {
  let next = 0
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < count) await job(next++)
  }))
}

test('three replicas in cluster mode behind round-robin nginx: legacy SSE and stateless Streamable HTTP', async (t) => {
  const cluster = await startCluster(t, { env: { MCP_TOKEN: `${CLUSTER_TOKEN},${OTHER_TOKEN}`, MCP_SSE_MAX_IN_FLIGHT: String(MAX_IN_FLIGHT) } })
  const [a, b, c] = cluster.replicas
  const addresses = cluster.replicas.map((replica) => replica.address).sort()

  await t.test('the SDK SSE client through nginx: initialize, list and 200 calls each, every answer on its own stream', async (t) => {
    const clients = await Promise.all(['first', 'second', 'third'].map(async (name) => ({
      name,
      ...await connectSdk(t, name, (wire) => new SSEClientTransport(new URL(`${cluster.lbUrl}/sse`), { requestInit: { headers: AUTH }, fetch: wire.fetch }))
    })))
    await Promise.all(clients.map(async ({ name, client }) => {
      const { tools } = await client.listTools()
      assert.ok(tools.some((tool) => tool.name === 'echo'), `${name} lists the tools`)
      await inBatches(200, MAX_IN_FLIGHT, async (index) => {
        const text = `${name}-${index}`
        const result = await client.callTool({ name: 'echo', arguments: { text } })
        assert.deepEqual(result.content, [{ type: 'text', text }], `${name}'s call ${index} got its own answer`)
      })
    }))

    for (const { name, wire, errors } of clients) {
      await wire.settled()
      assert.deepEqual(errors, [], `${name} saw no stray message or transport error`)
      const streams = wire.exchanges.filter((exchange) => exchange.method === 'GET')
      assert.equal(streams.length, 1, `${name} kept one stream`)
      const posts = wire.exchanges.filter((exchange) => exchange.method === 'POST')
      assert.equal(posts.length, 1 + 1 + 1 + 200, `${name} posted initialize, initialized, tools/list and 200 calls`)
      assert.deepEqual(posts.filter((exchange) => exchange.status !== 202), [], `${name}: every POST was accepted`)
      assert.deepEqual([...new Set(posts.map((exchange) => exchange.upstream))].sort(), addresses, `${name}'s POSTs reached every replica`)
      const relayed = posts.filter((exchange) => exchange.upstream !== streams[0].upstream).length
      assert.ok(relayed >= 100, `${name}: most POSTs landed on a replica without the stream (${relayed})`)
    }
  })

  await t.test('raw HTTP: a stream held by replica A takes the messages posted to B and C directly', async (t) => {
    const session = await openSse(t, a.baseUrl, AUTH)
    const on = (replica: Replica): string => `${replica.baseUrl}${session.endpoint}`

    assert.equal((await post(on(b), rpc('initialize', INITIALIZE_PARAMS, 1), AUTH)).status, 202)
    assert.equal((await session.nextMessage()).result.protocolVersion, INITIALIZE_PARAMS.protocolVersion)
    assert.equal((await post(on(c), { jsonrpc: '2.0', method: 'notifications/initialized' }, AUTH)).status, 202)
    for (const [index, replica] of [b, c, a, b, c].entries()) {
      const sent = await post(on(replica), rpc('tools/call', { name: 'add', arguments: { a: index, b: 100 } }, 10 + index), AUTH)
      assert.equal(sent.status, 202, sent.text)
      const answer = await session.nextMessage()
      assert.equal(answer.id, 10 + index)
      assert.deepEqual(answer.result.structuredContent, { sum: index + 100 })
    }
    const whoami = await post(on(c), rpc('tools/call', { name: 'whoami', arguments: {} }, 23), AUTH)
    assert.equal(whoami.status, 202)
    const who = await session.nextMessage()
    assert.equal(who.id, 23)
    assert.equal(who.result.structuredContent.transport, 'sse')
    assert.equal(who.result.structuredContent.sessionId, session.sessionId)
    assert.match(who.result.structuredContent.identity, /^token-/)
  })

  await t.test('the owner judges a relayed message as a local one: bad input, another identity, a busy session', async (t) => {
    const session = await openSse(t, a.baseUrl, AUTH)
    const on = (replica: Replica): string => `${replica.baseUrl}${session.endpoint}`

    const invalid = await post(on(b), { jsonrpc: '2.0', id: 5, method: 42 }, AUTH)
    assert.equal(invalid.status, 400)
    assert.equal(invalid.json.error.code, -32600)
    assert.equal(invalid.json.id, 5)

    // Another identity's message reaches nobody, through any replica.
    for (const replica of [a, b, c]) {
      const foreign = await post(on(replica), rpc('tools/call', { name: 'whoami', arguments: {} }, 99), OTHER)
      assert.equal(foreign.status, 404, `posted to replica ${replica.index}: ${foreign.text}`)
      assert.match(foreign.json.error.message, /Session not found/)
    }
    // A relayed message stays within the body limit (1 MiB by default): too large is refused where it lands.
    const tooLarge = await post(on(b), rpc('tools/call', { name: 'echo', arguments: { text: 'x'.repeat(1_100_000) } }, 6), AUTH)
    assert.equal(tooLarge.status, 413)
    assert.equal(tooLarge.json.error.code, -32000)
    const large = 'y'.repeat(900_000)
    assert.equal((await post(on(c), rpc('tools/call', { name: 'echo', arguments: { text: large } }, 7), AUTH)).status, 202)
    const echoed = await session.nextMessage()
    assert.equal(echoed.id, 7)
    assert.equal(echoed.result.content[0].text.length, large.length, 'a large message within the limit is relayed whole')

    const unknown = await post(`${b.baseUrl}/messages?sessionId=00000000-0000-4000-8000-000000000000`, rpc('ping'), AUTH)
    assert.equal(unknown.status, 404)
    assert.equal(unknown.json.error.code, -32000)

    // The owner's 429 (the session has sse.maxInFlight calls running) comes back through the relay, Retry-After too.
    const slowIds = Array.from({ length: MAX_IN_FLIGHT }, (_, index) => 30 + index)
    for (const id of slowIds) {
      const sent = await post(on(id % 2 === 0 ? b : c), rpc('tools/call', { name: 'slow', arguments: { ms: 600 } }, id), AUTH)
      assert.equal(sent.status, 202, sent.text)
    }
    const busy = await post(on(c), rpc('tools/call', { name: 'add', arguments: { a: 1, b: 1 } }, 50), AUTH)
    assert.equal(busy.status, 429, busy.text)
    assert.equal(busy.headers.get('retry-after'), '1')
    assert.equal(busy.json.id, 50)
    const answered = []
    while (answered.length < slowIds.length) answered.push((await session.nextMessage()).id)
    assert.deepEqual(answered.sort(), slowIds)
    assert.equal((await post(on(b), rpc('ping', undefined, 51), AUTH)).status, 202, 'the session serves again once its calls ended')
    assert.equal((await session.nextMessage()).id, 51)
  })

  await t.test('an SSE elicitation answered through another replica reaches the waiting handler', async (t) => {
    const session = await openSse(t, b.baseUrl, AUTH)
    const on = (replica: Replica): string => `${replica.baseUrl}${session.endpoint}`
    assert.equal((await post(on(c), rpc('initialize', { ...INITIALIZE_PARAMS, capabilities: { elicitation: {} } }, 1), AUTH)).status, 202)
    await session.nextMessage()
    assert.equal((await post(on(a), rpc('tools/call', { name: 'greet', arguments: {} }, 2), AUTH)).status, 202)
    const question = await session.nextMessage()
    assert.equal(question.method, 'elicitation/create')
    assert.equal((await post(on(a), { jsonrpc: '2.0', id: question.id, result: { action: 'accept', content: { name: 'Grace' } } }, AUTH)).status, 202)
    const answer = await session.nextMessage()
    assert.equal(answer.id, 2)
    assert.deepEqual(answer.result.content, [{ type: 'text', text: 'Hello, Grace!' }])
  })

  await t.test('a stateless elicitation started on A is answered through B, and not by another identity', async (t) => {
    const call = await openStream(t, `${a.baseUrl}/mcp`, {
      method: 'POST',
      headers: { ...MCP_HEADERS, ...AUTH },
      body: JSON.stringify(rpc('tools/call', { name: 'greet', arguments: {} }, 7))
    })
    assert.equal(call.status, 200)
    const question = await call.reader.nextMessage()
    assert.equal(question?.message.method, 'elicitation/create')
    const id = question?.message.id as string

    // The same answer from another identity, through C: accepted as a message, settles nothing.
    const foreign = await post(`${c.baseUrl}/mcp`, { jsonrpc: '2.0', id, result: { action: 'accept', content: { name: 'Mallory' } } }, OTHER)
    assert.equal(foreign.status, 202)
    const answer = await post(`${b.baseUrl}/mcp`, { jsonrpc: '2.0', id, result: { action: 'accept', content: { name: 'Grace' } } }, AUTH)
    assert.equal(answer.status, 202)
    const result = await call.reader.nextMessage()
    assert.equal(result?.message.id, 7)
    assert.deepEqual(result?.message.result.content, [{ type: 'text', text: 'Hello, Grace!' }])
  })

  await t.test('the SDK Streamable HTTP client, stateless, through nginx: its elicitation answer lands on another replica', async (t) => {
    const { client, wire, errors, elicited } = await connectSdk(t, 'stateless', (wire) =>
      new StreamableHTTPClientTransport(new URL(`${cluster.lbUrl}/mcp`), { requestInit: { headers: AUTH }, fetch: wire.fetch }))
    await greetWithAnswersElsewhere(client, wire, elicited)
    assert.deepEqual(errors.filter((error) => !/405|SSE stream/.test(String(error))), [])
  })
})
