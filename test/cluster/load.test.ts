import { test } from 'node:test'
import assert from 'node:assert/strict'
import { post, rpc } from '../helpers/raw-http.js'
import { openSse, type RawSseSession } from '../helpers/sse-client.js'
import { startCluster } from './support/cluster.js'
import { eventually } from './support/wire.js'

const SSE_SESSIONS = 50
const STATELESS_CALLERS = 100
/** As long as issue 11 asks: long enough for heartbeats, sweeps and Redis's own timers to run under load. */
const LOAD_MS = 30_000
/** Five callers with ten streams each: one identity may hold at most 25 sessions by default. */
const TOKENS = Array.from({ length: 5 }, (_, index) => `cluster-load-token-${index}-0123456789`)
const authOf = (session: number): Record<string, string> => ({ authorization: `Bearer ${TOKENS[session % TOKENS.length]}` })

/** One legacy SSE session under load: what it sent, and every answer its stream carried. */
class LoadedSession {
  readonly answers = new Map<number, string[]>()
  readonly stray: string[] = []
  sent = 0
  private readonly waiting = new Map<number, () => void>()

  constructor (readonly name: string, readonly session: RawSseSession, private readonly auth: Record<string, string>) {
    this.read().catch(() => { /* the stream ended when the test did */ })
  }

  /** Posts one call through the load balancer and resolves once its answer arrived. */
  async call (url: string, index: number): Promise<number> {
    const answered = new Promise<void>((resolve) => { this.waiting.set(index, resolve) })
    const text = `${this.name}:${index}`
    const response = await post(`${url}${this.session.endpoint}`, rpc('tools/call', { name: 'echo', arguments: { text } }, index), this.auth)
    this.sent++
    if (response.status !== 202) {
      this.waiting.delete(index)
      return response.status
    }
    await answered
    return 202
  }

  private async read (): Promise<void> {
    for (;;) {
      const message = await this.session.nextMessage()
      const text = message.result?.content?.[0]?.text as string | undefined
      if (typeof message.id !== 'number' || text === undefined) {
        this.stray.push(JSON.stringify(message))
        continue
      }
      this.answers.set(message.id, [...this.answers.get(message.id) ?? [], text])
      this.waiting.get(message.id)?.()
      this.waiting.delete(message.id)
    }
  }
}

test('load through nginx: 50 SSE sessions and 100 stateless callers on 3 replicas, every request answered exactly once, none crossed', async (t) => {
  const cluster = await startCluster(t, { env: { MCP_TOKEN: TOKENS.join(',') } })
  const url = cluster.lbUrl
  const sessions: LoadedSession[] = []
  for (let index = 0; index < SSE_SESSIONS; index++) sessions.push(new LoadedSession(`sse-${index}`, await openSse(t, url, authOf(index)), authOf(index)))
  const holders = new Set(sessions.map((loaded) => loaded.session.response.headers.get('x-upstream')))
  assert.equal(holders.size, 3, 'the streams are spread over the replicas')

  const deadline = Date.now() + LOAD_MS
  const sseStatuses: number[] = []
  const statelessFailures: string[] = []
  let statelessCalls = 0
  const sseLoops = sessions.map(async (loaded) => {
    for (let index = 1; Date.now() < deadline; index++) sseStatuses.push(await loaded.call(url, index))
  })
  const statelessLoops = Array.from({ length: STATELESS_CALLERS }, async (_, caller) => {
    for (let index = 1; Date.now() < deadline; index++) {
      const text = `stateless-${caller}:${index}`
      const response = await post(`${url}/mcp`, rpc('tools/call', { name: 'echo', arguments: { text } }, index), authOf(caller))
      statelessCalls++
      const got = response.json?.result?.content?.[0]?.text
      if (response.status !== 200 || response.json.id !== index || got !== text) statelessFailures.push(`${text}: ${response.status} ${response.text.slice(0, 200)}`)
    }
  })
  await Promise.all([...sseLoops, ...statelessLoops])

  assert.deepEqual(statelessFailures, [], 'every stateless call got its own answer')
  assert.deepEqual(sseStatuses.filter((status) => status !== 202), [], 'every SSE message was accepted')
  // Answers still in flight when the loops stopped have arrived (each loop waited for its own): check them all.
  await eventually('quiet streams', () => sessions.every((loaded) => loaded.answers.size === loaded.sent))
  for (const loaded of sessions) {
    assert.deepEqual(loaded.stray, [], `${loaded.name}: nothing but its answers on its stream`)
    for (const [index, texts] of loaded.answers) {
      assert.deepEqual(texts, [`${loaded.name}:${index}`], `${loaded.name}: answer ${index} once, and its own`)
    }
    assert.ok(loaded.sent > 0)
  }
  t.diagnostic(`${sseStatuses.length} SSE messages and ${statelessCalls} stateless calls in ${LOAD_MS} ms`)
  assert.ok(statelessCalls >= STATELESS_CALLERS && sseStatuses.length >= SSE_SESSIONS, 'every caller got through at least once')

  await eventually('the cluster to count every stream', async () =>
    (await (await fetch(`${cluster.replicas[0].baseUrl}/health/sse`)).json() as { clusterSessions: number }).clusterSessions === SSE_SESSIONS)
})
