import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { ResourceUpdatedNotificationSchema, type Notification } from '@modelcontextprotocol/sdk/types.js'
import { rpc } from '../helpers/raw-http.js'
import type { SseReader } from '../helpers/sse-reader.js'
import { BOARD_URI } from '../fixtures/cluster-tools.js'
import { AUTH, replicaAt, startCluster, sleep } from './support/cluster.js'
import { recordingFetch, type RecordingFetch, type SeenEvent } from './support/recording-fetch.js'
import type { Replica } from './support/replicas.js'
import { connectModern, eventually, initializeOn } from './support/wire.js'

interface StatefulSdk { client: Client, transport: StreamableHTTPClientTransport, wire: RecordingFetch, notified: string[], errors: unknown[] }

/** The SDK 1.x Streamable HTTP client, recording every notification it handles. */
async function connectSdk (t: TestContext, url: string): Promise<StatefulSdk> {
  const wire = recordingFetch()
  const client = new Client({ name: 'cluster-failover', version: '1.0.0' })
  const notified: string[] = []
  const errors: unknown[] = []
  client.setNotificationHandler(ResourceUpdatedNotificationSchema, (notification) => { notified.push(`updated ${notification.params.uri}`) })
  client.fallbackNotificationHandler = async (notification: Notification) => { notified.push(notification.method) }
  client.onerror = (error) => { errors.push(error) }
  // A reconnection that nginx happens to send to the dead replica (502) is tried again on the next one.
  const transport = new StreamableHTTPClientTransport(new URL(`${url}/mcp`), {
    requestInit: { headers: AUTH },
    fetch: wire.fetch,
    reconnectionOptions: { maxRetries: 6, initialReconnectionDelay: 200, maxReconnectionDelay: 1000, reconnectionDelayGrowFactor: 1.5 }
  })
  await client.connect(transport)
  t.after(async () => { await client.close() })
  return { client, transport, wire, notified, errors }
}

/** `0:12` → { stream: '0', seq: 12 }. */
function parseId (id: string): { stream: string, seq: number } {
  const [stream, seq] = id.split(':')
  return { stream, seq: Number(seq) }
}

/** The events carrying a message, of every listed exchange, in arrival order. */
function messagesOf (events: SeenEvent[][]): SeenEvent[] {
  return events.flat().filter((event) => event.data !== '')
}

/** Reads events until one carries a message; returns it and the id of the last event read. */
async function nextWithId (reader: SseReader): Promise<{ id: string, message: any }> {
  for (;;) {
    const event = await reader.nextEvent()
    if (event === undefined) throw new Error('the stream ended')
    if (event.data !== '') return { id: event.id ?? '', message: JSON.parse(event.data) }
  }
}

/** Every event of a stream until it ends. */
async function rest (reader: SseReader): Promise<Array<{ id: string | undefined, data: string }>> {
  const events = []
  for (let event = await reader.nextEvent(); event !== undefined; event = await reader.nextEvent()) events.push({ id: event.id, data: event.data })
  return events
}

function assertIncreasing (ids: string[], what: string): void {
  const seqs = ids.map((id) => parseId(id).seq)
  assert.deepEqual(seqs, [...new Set(seqs)].sort((x, y) => x - y), `${what}: ids unique and increasing (${ids.join(' ')})`)
}

test('stateful replicas that die or drain while holding streams and running calls', async (t) => {
  const cluster = await startCluster(t, { stateful: true })
  const restarts: Array<Promise<void>> = []
  /** Kills `replica` with `signal` and starts it again in the background, for the next subtest. */
  const kill = async (replica: Replica, signal: NodeJS.Signals): Promise<void> => {
    await replica.stop(signal)
    restarts.push(replica.start())
  }
  const allUp = async (): Promise<void> => { await Promise.all(restarts.splice(0)) }

  await t.test('the SDK client\'s GET stream held by A, A killed: it resumes elsewhere with Last-Event-ID, missed events replayed once, later ones live', async (t) => {
    const sdk = await connectSdk(t, cluster.lbUrl)
    const streams = (): typeof sdk.wire.exchanges => sdk.wire.exchanges.filter((exchange) => exchange.method === 'GET' && exchange.status === 200)
    await eventually('the GET stream', () => streams().length === 1)
    const holder = replicaAt(cluster.replicas, streams()[0].upstream)
    const trigger = await connectModern(t, cluster.replicas.find((replica) => replica !== holder)?.baseUrl ?? '')
    await sdk.client.subscribeResource({ uri: BOARD_URI })

    await trigger.callTool({ name: 'touch', arguments: { uri: BOARD_URI } })
    await eventually('the first update, live', () => sdk.notified.length === 1)

    // The client is kept from reconnecting until the test has sent what it must miss.
    const release = sdk.wire.hold((method, headers) => method === 'GET' && headers.has('last-event-id'))
    await kill(holder, 'SIGKILL')
    await streams()[0].ended
    await trigger.callTool({ name: 'touch', arguments: { uri: BOARD_URI } })
    await trigger.callTool({ name: 'announce', arguments: {} })
    release()

    await eventually('the resumed stream', () => streams().length === 2, 10_000)
    const resumed = streams()[1]
    assert.notEqual(resumed.upstream, holder.address)
    assert.equal(resumed.lastEventId, streams()[0].events.at(-1)?.id, 'resumed after the last event it got')
    await eventually('the missed events, replayed', () => sdk.notified.length === 3)
    await trigger.callTool({ name: 'touch', arguments: { uri: BOARD_URI } })
    await eventually('the update after the resumption, live', () => sdk.notified.length === 4)
    await sleep(300)

    const expected = [`updated ${BOARD_URI}`, `updated ${BOARD_URI}`, 'notifications/tools/list_changed', `updated ${BOARD_URI}`]
    assert.deepEqual(sdk.notified, expected, 'each notification once, in order')
    const carried = messagesOf(streams().map((exchange) => exchange.events))
    assert.deepEqual(carried.map((event) => JSON.parse(event.data).method), [
      'notifications/resources/updated', 'notifications/resources/updated', 'notifications/tools/list_changed', 'notifications/resources/updated'
    ])
    assertIncreasing(carried.map((event) => event.id ?? ''), 'the GET stream\'s events across both connections')
    assert.ok(carried.every((event) => parseId(event.id ?? '').stream === '0'), 'all on the standalone stream')
  })

  await t.test('a call running on A when A is killed: the resumed answer stream on B gets what was logged, then the lost-call error', async (t) => {
    await allUp()
    const [a, b, c] = cluster.replicas
    const session = await initializeOn(t, c.baseUrl)
    const call = await session.postStream(a.baseUrl, rpc('tools/call', { name: 'ticker', arguments: { ticks: 600, ms: 50 }, _meta: { progressToken: 'lost' } }, 41))
    assert.equal(call.status, 200)
    const first = await nextWithId(call.reader)
    assert.equal(first.message.params.progress, 1)
    const streamId = parseId(first.id).stream
    await sleep(200)
    await kill(a, 'SIGKILL')

    const resumed = await session.get(b.baseUrl, first.id)
    assert.equal(resumed.status, 200)
    const events = await rest(resumed.reader)
    const messages = events.filter((event) => event.data !== '').map((event) => ({ id: event.id ?? '', message: JSON.parse(event.data) }))
    const last = messages.at(-1)
    assert.equal(last?.message.id, 41)
    assert.equal(last?.message.error.code, -32603)
    assert.match(last?.message.error.message, /lost.*replica.*send the request again/)
    const progress = messages.slice(0, -1).map((entry) => entry.message.params.progress)
    assert.ok(progress.length >= 1, 'the progress A logged after the event the client had came first')
    assert.deepEqual(progress, Array.from({ length: progress.length }, (_, index) => index + 2), 'every logged step, once, in order')
    assert.ok(messages.every((entry) => parseId(entry.id).stream === streamId))
    assertIncreasing(messages.map((entry) => entry.id), 'the resumed answer stream')
    await b.waitForLog((line) => line.msg === 'A resumed call was lost with its replica', 'the lost call, logged')

    // Resumed again from the start, on C: the whole answer as kept, the error last, and the stream ends.
    const again = await session.get(c.baseUrl, `${streamId}:0`)
    const replay = (await rest(again.reader)).filter((event) => event.data !== '').map((event) => JSON.parse(event.data))
    assert.deepEqual(replay.at(-1), last?.message)
    assert.equal(replay.length, progress.length + 2)
  })

  await t.test('the SDK client through nginx: its call\'s replica killed, the resumed answer stream ends the call with the lost-call error', async (t) => {
    await allUp()
    const sdk = await connectSdk(t, cluster.lbUrl)
    const progress: number[] = []
    const call = sdk.client.callTool({ name: 'ticker', arguments: { ticks: 600, ms: 50 } }, undefined, { onprogress: (p) => { progress.push(p.progress) }, timeout: 30_000 })
    await eventually('the first progress', () => progress.length > 0)
    const post = sdk.wire.exchanges.find((exchange) => exchange.rpc === 'tools/call')
    const runner = replicaAt(cluster.replicas, post?.upstream)
    await kill(runner, 'SIGKILL')
    await assert.rejects(call, /lost.*replica/)
    const resumes = sdk.wire.exchanges.filter((exchange) => exchange.method === 'GET' && exchange.lastEventId !== undefined && exchange.lastEventId.split(':')[0] !== '0' && exchange.status === 200)
    assert.ok(resumes.length >= 1, 'the client resumed the answer stream')
    assert.ok(resumes.every((exchange) => exchange.upstream !== runner.address))
    assert.deepEqual(progress, Array.from({ length: progress.length }, (_, index) => index + 1), 'progress once each, in order')
  })

  await t.test('a call running on A when A gets SIGTERM: A finishes it while draining, and the stream resumed on B delivers its result', async (t) => {
    await allUp()
    const [a, b, c] = cluster.replicas
    const session = await initializeOn(t, c.baseUrl)
    const pid = (await session.post(a.baseUrl, rpc('tools/call', { name: 'where', arguments: {} }, 50))).json.result.structuredContent.pid as number
    const call = await session.postStream(a.baseUrl, rpc('tools/call', { name: 'ticker', arguments: { ticks: 20, ms: 100 }, _meta: { progressToken: 'drain' } }, 51))
    const first = await nextWithId(call.reader)
    assert.equal(first.message.params.progress, 1)
    // The client's connection to A breaks (as when the load balancer takes A out): it resumes on B.
    call.disconnect()
    const stopped = a.stop('SIGTERM')
    await a.waitForLog((line) => /^Draining/.test(line.msg), 'A draining')
    const resumed = await session.get(b.baseUrl, first.id)
    assert.equal(resumed.status, 200)
    const messages = (await rest(resumed.reader)).filter((event) => event.data !== '').map((event) => ({ id: event.id ?? '', message: JSON.parse(event.data) }))
    const last = messages.at(-1)
    assert.equal(last?.message.id, 51)
    assert.deepEqual(last?.message.result.content, [{ type: 'text', text: `ticked 20 on ${pid}` }], 'the result of the call A ran')
    assert.deepEqual(messages.slice(0, -1).map((entry) => entry.message.params.progress), Array.from({ length: 19 }, (_, index) => index + 2))
    assertIncreasing(messages.map((entry) => entry.id), 'the resumed answer stream')
    assert.deepEqual(await stopped, { code: 0, signal: null }, `A exited cleanly after its drain:\n${a.output().split('\n').slice(-15).join('\n')}`)
    restarts.push(a.start())
    await allUp()
  })
})
