import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as delay } from 'node:timers/promises'
import { AUTH_HEADER } from '../../helpers/app.js'
import { post, request, rpc, INITIALIZE_PARAMS } from '../../helpers/raw-http.js'
import { getStream, initializeSession, postStream, startStatefulApp, waitUntil } from '../../helpers/stateful-http.js'
import { gates } from '../../helpers/stateful-tools.js'

describe('stateful Streamable HTTP: idle timeout', () => {
  test('an idle session is ended: its GET stream ends and its id gets 404', async (t) => {
    const { app, mcpUrl } = await startStatefulApp(t, { idleTimeoutMs: 100 })
    const session = await initializeSession(mcpUrl)
    const stream = await getStream(t, mcpUrl, session.id)
    assert.deepEqual(await stream.reader.rest(), [])
    assert.equal(app.mcp.status().sessions.streamableHttp, 0)
    assert.equal((await session.post(rpc('ping'))).status, 404)
  })

  test('sessions nobody deletes are all freed by the idle timeout, which makes room for new ones', { timeout: 30_000 }, async (t) => {
    // Long enough that none of the twenty idles out while the others are still being opened on a loaded machine.
    const { app, mcpUrl } = await startStatefulApp(t, { idleTimeoutMs: 4_000, maxSessions: 20 }, { maxSessionsPerIdentity: 1000 })
    const sessions = await Promise.all(Array.from({ length: 20 }, async () => await initializeSession(mcpUrl)))
    assert.equal(app.mcp.status().sessions.streamableHttp, 20)
    await waitUntil('every session to idle out', () => app.mcp.status().sessions.streamableHttp === 0, 15_000)
    for (const session of sessions) assert.equal((await session.post(rpc('ping'))).status, 404)
    await Promise.all(Array.from({ length: 20 }, async () => await initializeSession(mcpUrl)))
    assert.equal(app.mcp.status().sessions.streamableHttp, 20)
  })

  test('keep-alive comments do not count as activity', async (t) => {
    const { app, mcpUrl } = await startStatefulApp(t, { idleTimeoutMs: 150, keepAliveMs: 10 })
    const session = await initializeSession(mcpUrl)
    const stream = await getStream(t, mcpUrl, session.id)
    let comments = 0
    for (let block = await stream.reader.next(); block !== undefined; block = await stream.reader.next()) comments += block.comments.length
    assert.ok(comments > 0)
    assert.equal(app.mcp.status().sessions.streamableHttp, 0)
  })

  test('requests keep a session alive past the idle timeout', async (t) => {
    const { mcpUrl } = await startStatefulApp(t, { idleTimeoutMs: 200 })
    const session = await initializeSession(mcpUrl)
    for (let i = 0; i < 10; i++) {
      await delay(50)
      assert.equal((await session.post(rpc('ping', undefined, i))).status, 200, `ping ${i}`)
    }
  })

  test('the idle timeout aborts a call that runs silently, and ends its stream', async (t) => {
    const { app, mcpUrl } = await startStatefulApp(t, { idleTimeoutMs: 100 })
    const session = await initializeSession(mcpUrl)
    const stream = await postStream(t, mcpUrl, session.id, rpc('tools/call', { name: 'hold', arguments: { key: 'idle' } }))
    assert.match(await gates.wait('aborted:idle'), /session ended \(idle\)/)
    assert.deepEqual(await stream.reader.rest(), [])
    assert.equal(app.mcp.status().sessions.streamableHttp, 0)
  })
})

describe('stateful Streamable HTTP: limits and endings', () => {
  test('past maxSessions initialize gets 503 with Retry-After, and the open sessions keep working', async (t) => {
    const { mcpUrl } = await startStatefulApp(t, { maxSessions: 3 }, { maxSessionsPerIdentity: 1000 })
    const sessions = [await initializeSession(mcpUrl), await initializeSession(mcpUrl), await initializeSession(mcpUrl)]
    const refused = await post(mcpUrl, rpc('initialize', INITIALIZE_PARAMS, 0), AUTH_HEADER)
    assert.equal(refused.status, 503)
    assert.match(refused.headers.get('retry-after') ?? '', /^\d+$/)
    assert.match(refused.json.error.message, /all 3 sessions are in use/)
    assert.equal(refused.headers.get('mcp-session-id'), null)
    for (const [i, session] of sessions.entries()) {
      assert.deepEqual((await session.post(rpc('ping', undefined, i))).json, { jsonrpc: '2.0', id: i, result: {} })
    }
    assert.equal((await request(mcpUrl, { method: 'DELETE', headers: { ...AUTH_HEADER, 'mcp-session-id': sessions[0].id } })).status, 204)
    await initializeSession(mcpUrl)
  })

  test('DELETE aborts the session\'s calls in flight and ends their streams', async (t) => {
    const { mcpUrl } = await startStatefulApp(t)
    const session = await initializeSession(mcpUrl)
    const stream = await postStream(t, mcpUrl, session.id, rpc('tools/call', { name: 'hold', arguments: { key: 'deleted' } }))
    await gates.wait('started:deleted')
    await request(mcpUrl, { method: 'DELETE', headers: { ...AUTH_HEADER, 'mcp-session-id': session.id } })
    assert.match(await gates.wait('aborted:deleted'), /session ended \(deleted\)/)
    assert.deepEqual(await stream.reader.rest(), [])
  })

  test('a failed initialize leaves no session behind', async (t) => {
    const { app, mcpUrl } = await startStatefulApp(t)
    const response = await post(mcpUrl, rpc('initialize', { capabilities: {} }, 0), AUTH_HEADER)
    assert.equal(response.json.error.code, -32602)
    assert.equal(response.headers.get('mcp-session-id'), null)
    assert.equal(app.mcp.status().sessions.streamableHttp, 0)
  })

  test('drain ends every session stream and forgets the sessions', async (t) => {
    const { app, mcpUrl } = await startStatefulApp(t)
    const session = await initializeSession(mcpUrl)
    const stream = await getStream(t, mcpUrl, session.id)
    await app.mcp.drain(1000)
    assert.deepEqual(await stream.reader.rest(), [])
    assert.equal(app.mcp.status().sessions.streamableHttp, 0)
  })

  test('while draining, new sessions and GET streams get 503', async (t) => {
    const { app, mcpUrl } = await startStatefulApp(t)
    const session = await initializeSession(mcpUrl)
    const draining = app.mcp.drain(5000)
    assert.equal((await post(mcpUrl, rpc('initialize', INITIALIZE_PARAMS, 0), AUTH_HEADER)).status, 503)
    assert.equal((await request(mcpUrl, { headers: { ...AUTH_HEADER, accept: 'text/event-stream', 'mcp-session-id': session.id } })).status, 503)
    await draining
  })

  test('while draining, a client\'s answer still reaches the call that waits for it', async (t) => {
    const { app, mcpUrl } = await startStatefulApp(t)
    const session = await initializeSession(mcpUrl)
    const stream = await postStream(t, mcpUrl, session.id, rpc('tools/call', { name: 'ask_name', arguments: {} }, 9))
    const asked = (await stream.reader.nextMessage())?.message
    const draining = app.mcp.drain(5000)
    const answered = await session.post({ jsonrpc: '2.0', id: asked.id, result: { action: 'accept', content: { name: 'Late' } } })
    assert.equal(answered.status, 202)
    const rest = await stream.reader.rest()
    assert.deepEqual(rest[0]?.message.result.content, [{ type: 'text', text: 'hello Late' }])
    await draining
    assert.equal(app.mcp.status().inFlight, 0)
  })
})
