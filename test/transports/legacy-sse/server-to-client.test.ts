import { test, describe, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import type { ElicitResult } from '@modelcontextprotocol/sdk/types.js'
import { rpc } from '../../helpers/raw-http.js'
import { openSse, type RawSseSession } from '../../helpers/sse-client.js'
import { waitUntil } from '../../helpers/stateful-http.js'
import { connectSseClient, startServerToClientApp } from '../../helpers/server-to-client-app.js'
import { connectScripted, HANG_GUARD, sseTransport, type ScriptedClient } from '../../helpers/scripted-client.js'
import { spawnServer } from '../../helpers/spawn-server.js'
import {
  checkCancellation, checkElicitation, checkLogsHonourSetLevel, checkLogsWithoutLevel, checkProgress, checkRoots,
  checkSampling, checkSeveralQuestionsAtOnce, checkSubscribedUpdate
} from '../../helpers/server-to-client-checks.js'
import { cancellationReason, NOTE_URI, OTHER_NOTE_URI } from '../../helpers/server-to-client-tools.js'

const SPAWN_TOKEN = 'server-to-client-spawn-token-0123456789'

async function connect (t: TestContext): Promise<ScriptedClient & { app: Awaited<ReturnType<typeof startServerToClientApp>>['app'] }> {
  const running = await startServerToClientApp(t)
  return { ...await connectSseClient(t, running), app: running.app }
}

async function touch (scripted: ScriptedClient, uri: string): Promise<void> {
  const result = await scripted.client.callTool({ name: 'touch', arguments: { uri } })
  assert.deepEqual(result.content, [{ type: 'text', text: `touched ${uri}` }])
}

describe('server-to-client features over legacy SSE, with the SDK 1.x client', () => {
  test('ctx.elicit() reaches the client as elicitation/create and the call gets the user\'s answer', HANG_GUARD, async (t) => {
    await checkElicitation(await connect(t))
  })

  test('ctx.sample() reaches the client as sampling/createMessage and the call gets the model\'s answer', HANG_GUARD, async (t) => {
    await checkSampling(await connect(t))
  })

  test('ctx.listRoots() reaches the client as roots/list and the call gets its roots', HANG_GUARD, async (t) => {
    await checkRoots(await connect(t))
  })

  test('three questions asked at once with ctx.requestInputs() each get their own answer', HANG_GUARD, async (t) => {
    await checkSeveralQuestionsAtOnce(await connect(t))
  })

  test('ctx.progress() reaches the client\'s onprogress, in order, before the result', HANG_GUARD, async (t) => {
    await checkProgress(await connect(t))
  })

  test('ctx.sendLog() messages reach the client at every level before any logging/setLevel', HANG_GUARD, async (t) => {
    await checkLogsWithoutLevel(await connect(t))
  })

  test('ctx.sendLog() honours the level the client sets with logging/setLevel', HANG_GUARD, async (t) => {
    await checkLogsHonourSetLevel(await connect(t))
  })

  test('after resources/subscribe, app.mcp.notifyResourceUpdated() reaches the SSE client for that URI only, and counts it', HANG_GUARD, async (t) => {
    const scripted = await connect(t)
    assert.equal(await scripted.app.mcp.notifyResourceUpdated(NOTE_URI), 0, 'nobody subscribed yet')
    await checkSubscribedUpdate(scripted, NOTE_URI, OTHER_NOTE_URI, async (uri) => {
      assert.equal(await scripted.app.mcp.notifyResourceUpdated(uri), uri === NOTE_URI ? 1 : 0)
    })
  })

  test('after resources/subscribe, ctx.notifyResourceUpdated() reaches the SSE client for that URI only', HANG_GUARD, async (t) => {
    const scripted = await connect(t)
    await checkSubscribedUpdate(scripted, NOTE_URI, OTHER_NOTE_URI, async (uri) => { await touch(scripted, uri) })
  })

  test('ctx.notifyResourceUpdated() in one session\'s call reaches another session that subscribed', HANG_GUARD, async (t) => {
    const running = await startServerToClientApp(t)
    const subscriber = await connectSseClient(t, running)
    const caller = await connectSseClient(t, running)
    await subscriber.client.subscribeResource({ uri: NOTE_URI })
    await touch(caller, NOTE_URI)
    assert.deepEqual((await subscriber.nextNotification('notifications/resources/updated')).params, { uri: NOTE_URI })
    assert.deepEqual(caller.seen('notifications/resources/updated'), [], 'the caller did not subscribe')
  })

  test('after resources/unsubscribe, updates of that URI no longer reach the SSE client', HANG_GUARD, async (t) => {
    const scripted = await connect(t)
    await scripted.client.subscribeResource({ uri: NOTE_URI })
    await scripted.client.unsubscribeResource({ uri: NOTE_URI })
    assert.equal(await scripted.app.mcp.notifyResourceUpdated(NOTE_URI), 0)
  })

  test('app.mcp.notifyListChanged() reaches every SSE client, and counts them', HANG_GUARD, async (t) => {
    const running = await startServerToClientApp(t)
    const clients = [await connectSseClient(t, running), await connectSseClient(t, running)]
    assert.equal(await running.app.mcp.notifyListChanged('tools'), 2)
    for (const scripted of clients) await scripted.nextNotification('notifications/tools/list_changed')
  })

  test('ctx.notifyListChanged() reaches every SSE client, the caller included', HANG_GUARD, async (t) => {
    const running = await startServerToClientApp(t)
    const [caller, other] = [await connectSseClient(t, running), await connectSseClient(t, running)]
    await caller.client.callTool({ name: 'announce', arguments: { list: 'prompts' } })
    await caller.nextNotification('notifications/prompts/list_changed')
    await other.nextNotification('notifications/prompts/list_changed')
  })

  test('an SSE client that disconnected is no longer told about changes', HANG_GUARD, async (t) => {
    const scripted = await connect(t)
    await scripted.client.subscribeResource({ uri: NOTE_URI })
    assert.equal(await scripted.app.mcp.notifyListChanged('tools'), 1)
    await scripted.client.close()
    await waitUntil('the session to be forgotten', () => scripted.app.mcp.status().sessions.sse === 0)
    assert.equal(await scripted.app.mcp.notifyListChanged('tools'), 0)
    assert.equal(await scripted.app.mcp.notifyResourceUpdated(NOTE_URI), 0)
  })

  test('aborting a call sends notifications/cancelled and fires the tool\'s ctx.signal with the client\'s reason', HANG_GUARD, async (t) => {
    await checkCancellation(await connect(t), 'sse-cancel')
  })

  test('the standalone node server carries ctx.elicit() over SSE and the user\'s answer back', HANG_GUARD, async (t) => {
    const server = await spawnServer(t, ['--tools', 'dist/test/helpers/server-to-client-tools.js'], { MCP_TOKEN: SPAWN_TOKEN })
    await checkElicitation(await connectScripted(t, sseTransport(`${server.baseUrl}/sse`, SPAWN_TOKEN)))
  })
})

/** Starts the greet tool on a raw session and reads the elicitation/create request it sends; resolves with its id. */
async function startElicitation (session: RawSseSession, callId: string): Promise<string> {
  assert.equal((await session.send(rpc('tools/call', { name: 'greet', arguments: {} }, callId))).status, 202)
  const asked = await session.nextMessage()
  assert.equal(asked.method, 'elicitation/create')
  assert.equal(typeof asked.id, 'string')
  return asked.id as string
}

const accept = (id: string, name: string): Record<string, unknown> => ({ jsonrpc: '2.0', id, result: { action: 'accept', content: { name } } })

describe('client answers on the legacy SSE wire', () => {
  test('a client\'s response POSTed to /messages gets 202 and settles the call that waits for it', HANG_GUARD, async (t) => {
    const { baseUrl } = await startServerToClientApp(t)
    const session = await openSse(t, baseUrl)
    const id = await startElicitation(session, 'call-1')
    const answered = await session.send(accept(id, 'Grace'))
    assert.equal(answered.status, 202)
    assert.equal(answered.text, '')
    assert.deepEqual(await session.nextMessage(), { jsonrpc: '2.0', id: 'call-1', result: { content: [{ type: 'text', text: 'Hello, Grace!' }] } })
  })

  test('a client\'s error response settles the waiting call, which ends as a tool error naming it', HANG_GUARD, async (t) => {
    const { baseUrl } = await startServerToClientApp(t)
    const session = await openSse(t, baseUrl)
    const id = await startElicitation(session, 'call-2')
    assert.equal((await session.send({ jsonrpc: '2.0', id, error: { code: -1, message: 'the user closed the dialog' } })).status, 202)
    const answer = await session.nextMessage()
    assert.equal(answer.id, 'call-2')
    assert.equal(answer.result.isError, true)
    assert.match(answer.result.content[0].text, /the user closed the dialog/)
  })

  test('while draining, a client\'s answer to an elicitation is accepted and the call completes', HANG_GUARD, async (t) => {
    const { app, baseUrl } = await startServerToClientApp(t)
    const session = await openSse(t, baseUrl)
    const id = await startElicitation(session, 'call-3')
    const drained = app.mcp.drain(10_000)
    assert.equal(app.mcp.status().status, 'draining')
    const answered = await session.send(accept(id, 'Late'))
    assert.equal(answered.status, 202, answered.text)
    assert.deepEqual((await session.nextMessage()).result.content, [{ type: 'text', text: 'Hello, Late!' }])
    await drained
    assert.equal(app.mcp.status().inFlight, 0)
  })

  test('while draining, notifications/cancelled is accepted and stops the call', HANG_GUARD, async (t) => {
    const { app, baseUrl } = await startServerToClientApp(t)
    const session = await openSse(t, baseUrl)
    const key = 'drain-cancel'
    const progressToken = 'started'
    await session.send(rpc('tools/call', { name: 'wait_for_cancel', arguments: { key }, _meta: { progressToken } }, 'call-4'))
    assert.equal((await session.nextMessage()).method, 'notifications/progress')
    const drained = app.mcp.drain(10_000)
    const cancelled = await session.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'call-4', reason: 'deploying' } })
    assert.equal(cancelled.status, 202, cancelled.text)
    await waitUntil('the call to stop', () => cancellationReason(key) !== undefined)
    assert.equal(cancellationReason(key), 'AbortError: Cancelled by the client: deploying')
    await drained
  })

  test('while draining, a new request on an open session gets 503 with Retry-After', HANG_GUARD, async (t) => {
    const { app, baseUrl } = await startServerToClientApp(t)
    const session = await openSse(t, baseUrl)
    await startElicitation(session, 'call-5')
    const drained = app.mcp.drain(100)
    const refused = await session.send(rpc('tools/list', {}, 'late'))
    assert.equal(refused.status, 503)
    assert.equal(refused.headers.get('retry-after'), '5')
    assert.equal(refused.json.id, 'late')
    await drained
  })

  test('with the SDK client, a call waiting on elicitation during a drain completes once the user answers', HANG_GUARD, async (t) => {
    const running = await startServerToClientApp(t)
    let answer!: (result: ElicitResult) => void
    let asked!: () => void
    const questionArrived = new Promise<void>((resolve) => { asked = resolve })
    const scripted = await connectSseClient(t, running, {
      elicit: async () => await new Promise<ElicitResult>((resolve) => { answer = resolve; asked() })
    })
    const call = scripted.client.callTool({ name: 'greet', arguments: {} })
    await questionArrived
    const drained = running.app.mcp.drain(10_000)
    answer({ action: 'accept', content: { name: 'Draining Dana' } })
    assert.deepEqual((await call).content, [{ type: 'text', text: 'Hello, Draining Dana!' }])
    await drained
  })
})
