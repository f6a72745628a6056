import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { ElicitRequestSchema, ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js'
import { rpc, INITIALIZE_PARAMS } from '../helpers/raw-http.js'
import { openSse, type RawSseSession } from '../helpers/sse-client.js'
import { BOARD_URI, OTHER_URI } from '../fixtures/cluster-tools.js'
import { AUTH, startCluster, sleep } from './support/cluster.js'
import { recordingFetch, type RecordingFetch } from './support/recording-fetch.js'
import { CLUSTER_TOKEN, type Replica } from './support/replicas.js'
import { collect, connectModern, eventually, greetWithAnswersElsewhere, initializeOn, type StreamMessage } from './support/wire.js'

const OTHER_TOKEN = 'cluster-test-other-token-9876543210'
const OTHER = { authorization: `Bearer ${OTHER_TOKEN}` }

interface StatefulSdk { client: Client, wire: RecordingFetch, errors: unknown[], elicited: string[], updates: string[] }

/** The SDK 1.x client over Streamable HTTP (it keeps the session id and opens the GET stream itself). */
async function connectStatefulSdk (t: TestContext, url: string): Promise<StatefulSdk> {
  const wire = recordingFetch()
  const client = new Client({ name: 'cluster-stateful', version: '1.0.0' }, { capabilities: { elicitation: {} } })
  const elicited: string[] = []
  const updates: string[] = []
  const errors: unknown[] = []
  client.setRequestHandler(ElicitRequestSchema, async (request) => {
    elicited.push(request.params.message)
    return { action: 'accept', content: { name: 'Ada' } }
  })
  client.setNotificationHandler(ResourceUpdatedNotificationSchema, (notification) => { updates.push(notification.params.uri) })
  client.onerror = (error) => { errors.push(error) }
  const transport = new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers: AUTH }, fetch: wire.fetch })
  await client.connect(transport)
  t.after(async () => { await client.close() })
  return { client, wire, errors, elicited, updates }
}

/** The methods of a stream's messages that are notifications. */
function notifications (messages: StreamMessage[]): string[] {
  return messages.filter((entry) => entry.message.method !== undefined).map((entry) => `${String(entry.message.method)} ${String(entry.message.params?.uri ?? '')}`.trim())
}

/** The notifications an SSE session received, read in the background. */
function collectSse (session: RawSseSession): string[] {
  const seen: string[] = []
  const reading = async (): Promise<void> => {
    for (;;) {
      const message = await session.nextMessage()
      if (message.method !== undefined) seen.push(`${String(message.method)} ${String(message.params?.uri ?? '')}`.trim())
    }
  }
  reading().catch(() => { /* the stream ended */ })
  return seen
}

test('three stateful replicas in cluster mode behind round-robin nginx', async (t) => {
  const cluster = await startCluster(t, { stateful: true, env: { MCP_TOKEN: `${CLUSTER_TOKEN},${OTHER_TOKEN}` } })
  const [a, b, c] = cluster.replicas
  const addresses = cluster.replicas.map((replica) => replica.address).sort()

  await t.test('the SDK Streamable HTTP client keeps one session across every replica through nginx', async (t) => {
    const { client, wire, errors, updates } = await connectStatefulSdk(t, cluster.lbUrl)
    await eventually('the GET stream', () => wire.exchanges.some((exchange) => exchange.method === 'GET' && exchange.status === 200))
    assert.ok((await client.listTools()).tools.some((tool) => tool.name === 'ticker'))
    for (let index = 0; index < 30; index++) {
      const text = `call-${index}`
      assert.deepEqual((await client.callTool({ name: 'echo', arguments: { text } })).content, [{ type: 'text', text }])
    }
    const progress: number[] = []
    const counted = await client.callTool({ name: 'countdown', arguments: { steps: 3 } }, undefined, { onprogress: (p) => { progress.push(p.progress) } })
    assert.deepEqual(counted.content, [{ type: 'text', text: 'counted 3' }])
    assert.deepEqual(progress, [1, 2, 3])

    // Subscribed on one replica, the update triggered on another, delivered by the replica holding the GET stream.
    await client.subscribeResource({ uri: BOARD_URI })
    await client.callTool({ name: 'touch', arguments: { uri: OTHER_URI } })
    await client.callTool({ name: 'touch', arguments: { uri: BOARD_URI } })
    await eventually('the resource update', () => updates.length > 0)
    await sleep(300)
    assert.deepEqual(updates, [BOARD_URI], 'once, and only for the subscribed resource')

    await wire.settled()
    const sessionIds = new Set(wire.exchanges.filter((exchange) => exchange.rpc !== 'initialize').map((exchange) => exchange.sessionId))
    assert.deepEqual([...sessionIds], [(client.transport as StreamableHTTPClientTransport).sessionId], 'one session throughout')
    const posts = wire.exchanges.filter((exchange) => exchange.method === 'POST')
    assert.deepEqual([...new Set(posts.map((exchange) => exchange.upstream))].sort(), addresses, 'the session was served by every replica')
    assert.deepEqual(posts.filter((exchange) => exchange.status !== 200 && exchange.status !== 202), [])
    assert.deepEqual(errors, [])
  })

  await t.test('a stateful elicitation: the call runs on B, the answer is posted to C, the result arrives on B\'s stream', async (t) => {
    const session = await initializeOn(t, a.baseUrl)
    const call = await session.postStream(b.baseUrl, rpc('tools/call', { name: 'greet', arguments: {} }, 5))
    assert.equal(call.status, 200)
    const question = await call.reader.nextMessage()
    assert.equal(question?.message.method, 'elicitation/create')
    // Another identity cannot answer it, even knowing the session and request ids.
    const foreign = await session.post(a.baseUrl, { jsonrpc: '2.0', id: question?.message.id, result: { action: 'accept', content: { name: 'Mallory' } } }, OTHER)
    assert.equal(foreign.status, 404)
    const answered = await session.post(c.baseUrl, { jsonrpc: '2.0', id: question?.message.id, result: { action: 'accept', content: { name: 'Grace' } } })
    assert.equal(answered.status, 202)
    const result = await call.reader.nextMessage()
    assert.equal(result?.message.id, 5)
    assert.deepEqual(result?.message.result.content, [{ type: 'text', text: 'Hello, Grace!' }])
  })

  await t.test('the SDK stateful client through nginx: elicitation answers land on other replicas than their calls', async (t) => {
    const { client, wire, elicited } = await connectStatefulSdk(t, cluster.lbUrl)
    await eventually('the GET stream', () => wire.exchanges.some((exchange) => exchange.method === 'GET' && exchange.status === 200))
    await greetWithAnswersElsewhere(client, wire, elicited)
  })

  await t.test('a resource update triggered on C reaches subscribers on A and B over SSE, stateful GET and subscriptions/listen', async (t) => {
    const holders: Replica[] = [a, b]
    // Legacy SSE sessions held by A and B, subscribed through the other replicas.
    const sse = await Promise.all(holders.map(async (holder) => await openSse(t, holder.baseUrl, AUTH)))
    for (const [index, session] of sse.entries()) {
      const via = holders[1 - index]
      assert.equal((await fetch(`${via.baseUrl}${session.endpoint}`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: JSON.stringify(rpc('initialize', INITIALIZE_PARAMS, 1)) })).status, 202)
      await session.nextMessage()
      assert.equal((await fetch(`${c.baseUrl}${session.endpoint}`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: JSON.stringify(rpc('resources/subscribe', { uri: BOARD_URI }, 2)) })).status, 202)
      assert.deepEqual((await session.nextMessage()).result, {})
    }
    const sseSeen = sse.map(collectSse)

    // Stateful sessions subscribed on C, their GET streams held by A and B.
    const stateful = await Promise.all(holders.map(async (holder) => {
      const session = await initializeOn(t, c.baseUrl)
      const subscribed = await session.post(c.baseUrl, rpc('resources/subscribe', { uri: BOARD_URI }, 3))
      assert.equal(subscribed.status, 200, subscribed.text)
      const stream = await session.get(holder.baseUrl)
      assert.equal(stream.status, 200)
      return collect(stream.reader)
    }))

    // 2026-07-28 listen streams on A and B.
    const listened = await Promise.all(holders.map(async (holder) => {
      const client = await connectModern(t, holder.baseUrl)
      const seen: string[] = []
      client.setNotificationHandler('notifications/resources/updated', (notification) => { seen.push(`notifications/resources/updated ${notification.params.uri}`) })
      client.setNotificationHandler('notifications/tools/list_changed', () => { seen.push('notifications/tools/list_changed') })
      const subscription = await client.listen({ resourceSubscriptions: [BOARD_URI] })
      assert.deepEqual(subscription.honoredFilter, { resourceSubscriptions: [BOARD_URI] })
      t.after(async () => { await subscription.close() })
      return seen
    }))

    const trigger = await connectModern(t, c.baseUrl)
    assert.deepEqual((await trigger.callTool({ name: 'touch', arguments: { uri: OTHER_URI } })).content, [{ type: 'text', text: `touched ${OTHER_URI}` }])
    await trigger.callTool({ name: 'touch', arguments: { uri: BOARD_URI } })
    const expected = [`notifications/resources/updated ${BOARD_URI}`]
    const views = (): Array<[string, string[]]> => [
      ['SSE on A', sseSeen[0]], ['SSE on B', sseSeen[1]],
      ['GET on A', notifications(stateful[0].messages)], ['GET on B', notifications(stateful[1].messages)],
      ['listen on A', listened[0]], ['listen on B', listened[1]]
    ]
    await eventually('every subscriber', () => views().every(([, seen]) => seen.length > 0))
    await sleep(300)
    for (const [where, seen] of views()) assert.deepEqual(seen, expected, `${where}: once, and only the subscribed resource`)

    // A list change from C: SSE sessions and stateful GETs hear it; the listen streams did not ask for it.
    await trigger.callTool({ name: 'announce', arguments: {} })
    await eventually('the list change', () => views().slice(0, 4).every(([, seen]) => seen.length > 1))
    await sleep(300)
    for (const [where, seen] of views().slice(0, 4)) assert.deepEqual(seen, [...expected, 'notifications/tools/list_changed'], where)
    for (const [where, seen] of views().slice(4)) assert.deepEqual(seen, expected, where)
  })

  await t.test('changes announced at once on every replica reach a session\'s stream each once, ids unique and increasing', async (t) => {
    const session = await initializeOn(t, a.baseUrl)
    assert.equal((await session.post(b.baseUrl, rpc('resources/subscribe', { uri: BOARD_URI }, 1))).status, 200)
    const stream = await session.get(c.baseUrl)
    const held = collect(stream.reader)
    const triggers = await Promise.all([a, b, c].map(async (replica) => await connectModern(t, replica.baseUrl)))
    const rounds = 10
    await Promise.all(triggers.map(async (trigger) => {
      for (let round = 0; round < rounds; round++) await trigger.callTool({ name: 'touch', arguments: { uri: BOARD_URI } })
    }))
    await eventually('every update', () => held.messages.length >= rounds * triggers.length)
    await sleep(300)
    assert.equal(held.messages.length, rounds * triggers.length, 'each once')
    const seqs = held.messages.map((entry) => Number(entry.id?.split(':')[1]))
    assert.deepEqual(seqs, [...new Set(seqs)].sort((x, y) => x - y), `unique and increasing: ${seqs.join(' ')}`)
  })

  await t.test('/health reports this replica and the cluster: the replica\'s name, Redis up, the sessions of every replica', async () => {
    type Report = { sessions: { sse: number }, cluster: { replica: string, redis: string, sessions: { sse: number, streamableHttp: number } } }
    const reports = async (): Promise<Report[]> => await Promise.all([a, b, c].map(async (replica) => await (await fetch(`${replica.baseUrl}/health`)).json() as Report))
    const first = await reports()
    assert.equal(new Set(first.map((report) => report.cluster.replica)).size, 3, 'each replica has its own name')
    assert.deepEqual(first.map((report) => report.cluster.redis), ['up', 'up', 'up'])
    // The stateful sessions the tests above started, on every replica; counts are refreshed periodically.
    await eventually('every replica to count the whole cluster\'s sessions', async () =>
      (await reports()).every((report) => report.cluster.sessions.streamableHttp >= 5), 8_000)
  })

  await t.test('another identity\'s stateful session is unknown on every replica; its owner goes on', async (t) => {
    const session = await initializeOn(t, a.baseUrl)
    for (const replica of [a, b, c]) {
      const call = await session.post(replica.baseUrl, rpc('tools/call', { name: 'whoami', arguments: {} }, 8), OTHER)
      assert.equal(call.status, 404, call.text)
      assert.equal(call.json.id, 8)
      assert.match(call.json.error.message, /Session not found/)
      const ping = await session.post(replica.baseUrl, rpc('ping', undefined, 10))
      assert.equal(ping.status, 200, 'its owner is still served there')
    }
    const otherGet = await fetch(`${b.baseUrl}/mcp`, { headers: { ...OTHER, accept: 'text/event-stream', 'mcp-session-id': session.id } })
    assert.equal(otherGet.status, 404)
    await otherGet.body?.cancel()
    assert.equal((await session.delete(c.baseUrl, OTHER)).status, 404)
    const mine = await session.post(c.baseUrl, rpc('tools/call', { name: 'whoami', arguments: {} }, 9))
    assert.equal(mine.status, 200)
    assert.equal(mine.json.result.structuredContent.sessionId, session.id)
  })
})
