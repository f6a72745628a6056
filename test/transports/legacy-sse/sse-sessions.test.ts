import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { startApp, TOKEN, AUTH_HEADER } from '../../helpers/app.js'
import { connectSse } from '../../helpers/clients.js'
import { post, request, rpc } from '../../helpers/raw-http.js'
import { slowCalls } from '../../helpers/fixture-tools.js'
import { startLoggedApp } from '../../helpers/sse-app.js'
import { openSse, openStalledSse, sseHealth, waitFor, type RawSseSession } from '../../helpers/sse-client.js'

/** Reads `count` message events off a session's stream. */
async function readMessages (session: RawSseSession, count: number): Promise<any[]> {
  const messages = []
  for (let i = 0; i < count; i++) messages.push(await session.nextMessage())
  return messages
}

describe('SSE session limits', () => {
  test('/health/sse reports the default limits and counts open streams', async (t) => {
    const { baseUrl } = await startApp(t)
    assert.deepEqual(await sseHealth(baseUrl), { sessions: 0, maxSessions: 50, idleTimeoutMs: 1_800_000 })
    await openSse(t, baseUrl)
    await openSse(t, baseUrl)
    assert.equal((await sseHealth(baseUrl)).sessions, 2)
  })

  test('past maxSessions a new stream gets 503 with Retry-After, and closing one makes room', { timeout: 30_000 }, async (t) => {
    // One test token opens every stream: the per-caller cap (half of maxSessions by default) is lifted here.
    const { baseUrl } = await startApp(t, { maxSessionsPerIdentity: 1000 })
    const sessions = await Promise.all(Array.from({ length: 50 }, async () => await openSse(t, baseUrl)))
    assert.equal((await sseHealth(baseUrl)).sessions, 50)

    const refused = await request(`${baseUrl}/sse`, { headers: AUTH_HEADER })
    assert.equal(refused.status, 503)
    assert.match(refused.headers.get('retry-after') ?? '', /^\d+$/)
    assert.match(refused.json.error.message, /all 50 SSE sessions are in use/)
    assert.equal((await sseHealth(baseUrl)).sessions, 50)
    assert.equal((await sessions[7].send(rpc('ping', undefined, 'still-here'))).status, 202)
    assert.equal((await sessions[7].nextMessage()).id, 'still-here')

    sessions[0].disconnect()
    await waitFor('the closed session to leave the count', async () => (await sseHealth(baseUrl)).sessions === 49)
    await openSse(t, baseUrl)
    assert.equal((await sseHealth(baseUrl)).sessions, 50)
  })

  test('maxSessions is an option', async (t) => {
    const { baseUrl } = await startApp(t, { sse: { maxSessions: 1 }, maxSessionsPerIdentity: 1000 })
    await openSse(t, baseUrl)
    assert.equal((await request(`${baseUrl}/sse`, { headers: AUTH_HEADER })).status, 503)
    assert.equal((await sseHealth(baseUrl)).maxSessions, 1)
  })

  test('a client that disconnects leaves the count within a second', async (t) => {
    const { baseUrl } = await startApp(t)
    const leaving = await openSse(t, baseUrl)
    await openSse(t, baseUrl)
    leaving.disconnect()
    await waitFor('the count to drop to 1', async () => (await sseHealth(baseUrl)).sessions === 1)
    assert.equal((await leaving.send(rpc('ping'))).status, 404)
  })
})

describe('SSE idle timeout', () => {
  test('an idle session is pruned: its stream ends and its URL gets 404', async (t) => {
    const { baseUrl } = await startApp(t, { sse: { idleTimeoutMs: 100 } })
    const session = await openSse(t, baseUrl)
    assert.equal(await session.reader.nextEvent(), undefined)
    assert.equal((await sseHealth(baseUrl)).sessions, 0)
    assert.equal((await session.send(rpc('ping'))).status, 404)
  })

  test('keep-alive comments do not count as activity', async (t) => {
    const { baseUrl } = await startApp(t, { sse: { idleTimeoutMs: 150, keepAliveMs: 10 } })
    const session = await openSse(t, baseUrl)
    let comments = 0
    for (let block = await session.reader.next(); block !== undefined; block = await session.reader.next()) comments += block.comments.length
    assert.ok(comments > 0)
    assert.equal((await sseHealth(baseUrl)).sessions, 0)
  })

  test('messages in and out keep a session alive past the idle timeout', async (t) => {
    const { baseUrl } = await startApp(t, { sse: { idleTimeoutMs: 1000 } })
    const session = await openSse(t, baseUrl)
    const until = Date.now() + 2500
    for (let id = 1; Date.now() < until; id++) {
      assert.equal((await session.send(rpc('ping', undefined, id))).status, 202)
      assert.equal((await session.nextMessage()).id, id)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    assert.equal((await sseHealth(baseUrl)).sessions, 1)
  })
})

describe('SSE sessions under load', () => {
  test('50 sessions sending concurrent calls each get exactly their own answers', { timeout: 30_000 }, async (t) => {
    const { baseUrl } = await startApp(t, { maxSessionsPerIdentity: 1000 })
    const sessions = await Promise.all(Array.from({ length: 50 }, async () => await openSse(t, baseUrl)))
    const CALLS = 4
    const posts = sessions.flatMap((session, s) => Array.from({ length: CALLS }, async (_, n) => {
      const call = rpc('tools/call', { name: 'add', arguments: { a: s, b: 1000 * n } }, n)
      assert.equal((await session.send(call)).status, 202)
    }))
    const answers = await Promise.all(sessions.map(async (session) => await readMessages(session, CALLS)))
    await Promise.all(posts)
    for (const [s, received] of answers.entries()) {
      const sums = received.sort((x, y) => x.id - y.id).map((answer) => [answer.id, answer.result.structuredContent.sum])
      assert.deepEqual(sums, Array.from({ length: CALLS }, (_, n) => [n, s + 1000 * n]), `session ${s}`)
    }
    // Nothing more is waiting on any stream: the next message each one carries is the answer to a fresh ping.
    await Promise.all(sessions.map(async (session) => {
      await session.send(rpc('ping', undefined, 'last'))
      assert.equal((await session.nextMessage()).id, 'last')
    }))
  })

  test('a client that stops reading is cut off past maxBufferedBytes, logged, and its session dropped', { timeout: 60_000 }, async (t) => {
    const { baseUrl, logs } = await startLoggedApp(t, { sse: { maxBufferedBytes: 64 * 1024 } })
    const { sessionId } = await openStalledSse(t, baseUrl, TOKEN)
    const bigCall = { name: 'echo', arguments: { text: 'x'.repeat(1024), times: 1024 } }
    let status = 202
    for (let id = 0; id < 200 && status === 202; id++) {
      status = (await post(`${baseUrl}/messages?sessionId=${sessionId}`, rpc('tools/call', bigCall, id), AUTH_HEADER)).status
    }
    assert.equal(status, 404)
    assert.equal((await sseHealth(baseUrl)).sessions, 0)
    const warning = logs.find((line) => line.msg === 'SSE client is not reading its stream; session closed')
    assert.equal(warning?.sessionId, sessionId)
    assert.equal(warning?.limitBytes, 64 * 1024)
  })

  test('a message larger than maxBufferedBytes still reaches a client that reads', async (t) => {
    const { baseUrl } = await startApp(t, { sse: { maxBufferedBytes: 16 * 1024 } })
    const session = await openSse(t, baseUrl)
    await session.send(rpc('tools/call', { name: 'echo', arguments: { text: 'y'.repeat(1024), times: 200 } }, 1))
    const answer = await session.nextMessage()
    assert.equal(answer.result.content[0].text.length, 200 * 1024)
    assert.equal((await sseHealth(baseUrl)).sessions, 1)
  })
})

describe('SSE sessions and shutdown', () => {
  test('app.close() ends every open stream promptly and leaves no session', async (t) => {
    const { app, baseUrl } = await startApp(t)
    const raw = await Promise.all([1, 2, 3].map(async () => await openSse(t, baseUrl)))
    await connectSse(t, `${baseUrl}/sse`, TOKEN)
    assert.equal((await sseHealth(baseUrl)).sessions, 4)
    const started = Date.now()
    await app.close()
    assert.ok(Date.now() - started < 1000, `app.close() took ${Date.now() - started} ms`)
    for (const session of raw) assert.equal(await session.reader.nextEvent(), undefined)
    assert.equal(app.mcp.status().sessions.sse, 0)
  })

  test('drain() ends every stream and refuses new ones with 503', async (t) => {
    const { app, baseUrl } = await startApp(t)
    const session = await openSse(t, baseUrl)
    await app.mcp.drain(0)
    assert.equal(await session.reader.nextEvent(), undefined)
    assert.equal((await sseHealth(baseUrl)).sessions, 0)
    const refused = await request(`${baseUrl}/sse`, { headers: AUTH_HEADER })
    assert.equal(refused.status, 503)
    assert.match(refused.json.error.message, /shutting down/)
  })

  test('a call still running when its client disconnects sees its signal fire', async (t) => {
    const { baseUrl } = await startApp(t)
    const session = await openSse(t, baseUrl)
    const before = slowCalls.length
    assert.equal((await session.send(rpc('tools/call', { name: 'slow', arguments: { ms: 30_000 } }, 1))).status, 202)
    session.disconnect()
    await waitFor('the handler to stop', () => slowCalls.length > before)
    assert.deepEqual(slowCalls.at(-1), { aborted: true, reason: 'Error: SSE client disconnected' })
  })

  test('notifications/cancelled stops a running call, and no answer is sent for it', async (t) => {
    const { baseUrl } = await startApp(t)
    const session = await openSse(t, baseUrl)
    const before = slowCalls.length
    await session.send(rpc('tools/call', { name: 'slow', arguments: { ms: 30_000 } }, 'long'))
    await session.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'long', reason: 'user pressed stop' } })
    await waitFor('the handler to stop', () => slowCalls.length > before)
    assert.deepEqual(slowCalls.at(-1), { aborted: true, reason: 'AbortError: Cancelled by the client: user pressed stop' })
    await session.send(rpc('ping', undefined, 'after'))
    assert.equal((await session.nextMessage()).id, 'after')
  })
})
