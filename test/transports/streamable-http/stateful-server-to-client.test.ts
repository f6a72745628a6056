import { test, describe, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import type { FastifyInstance } from 'fastify'
import { connectMcp, startServerToClientApp } from '../../helpers/server-to-client-app.js'
import { HANG_GUARD, type ScriptedClient } from '../../helpers/scripted-client.js'
import {
  checkCancellation, checkElicitation, checkLogsHonourSetLevel, checkLogsWithoutLevel, checkProgress, checkRoots,
  checkSampling, checkSeveralQuestionsAtOnce, checkSubscribedUpdate
} from '../../helpers/server-to-client-checks.js'
import { NOTE_URI, OTHER_NOTE_URI } from '../../helpers/server-to-client-tools.js'
import type { RunningApp } from '../../helpers/app.js'

async function start (t: TestContext): Promise<RunningApp> {
  return await startServerToClientApp(t, { streamable: { sessions: true } })
}

async function connect (t: TestContext): Promise<ScriptedClient & { app: FastifyInstance }> {
  const running = await start(t)
  return { ...await connectMcp(t, running), app: running.app }
}

async function touch (scripted: ScriptedClient, uri: string): Promise<void> {
  const result = await scripted.client.callTool({ name: 'touch', arguments: { uri } })
  assert.deepEqual(result.content, [{ type: 'text', text: `touched ${uri}` }])
}

describe('server-to-client features over stateful Streamable HTTP, with the SDK 1.x client', () => {
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

  test('ctx.sendLog() honours the level the session sets with logging/setLevel', HANG_GUARD, async (t) => {
    await checkLogsHonourSetLevel(await connect(t))
  })

  test('after resources/subscribe, app.mcp.notifyResourceUpdated() reaches the session for that URI only, and counts it', HANG_GUARD, async (t) => {
    const scripted = await connect(t)
    assert.equal(await scripted.app.mcp.notifyResourceUpdated(NOTE_URI), 0, 'nobody subscribed yet')
    await checkSubscribedUpdate(scripted, NOTE_URI, OTHER_NOTE_URI, async (uri) => {
      assert.equal(await scripted.app.mcp.notifyResourceUpdated(uri), uri === NOTE_URI ? 1 : 0)
    })
  })

  test('after resources/subscribe, ctx.notifyResourceUpdated() reaches the session for that URI only', HANG_GUARD, async (t) => {
    const scripted = await connect(t)
    await checkSubscribedUpdate(scripted, NOTE_URI, OTHER_NOTE_URI, async (uri) => { await touch(scripted, uri) })
  })

  test('ctx.notifyResourceUpdated() in one session\'s call reaches another session that subscribed', HANG_GUARD, async (t) => {
    const running = await start(t)
    const subscriber = await connectMcp(t, running)
    const caller = await connectMcp(t, running)
    await subscriber.client.subscribeResource({ uri: NOTE_URI })
    await touch(caller, NOTE_URI)
    assert.deepEqual((await subscriber.nextNotification('notifications/resources/updated')).params, { uri: NOTE_URI })
    assert.deepEqual(caller.seen('notifications/resources/updated'), [], 'the caller did not subscribe')
  })

  test('after resources/unsubscribe, updates of that URI no longer reach the session', HANG_GUARD, async (t) => {
    const scripted = await connect(t)
    await scripted.client.subscribeResource({ uri: NOTE_URI })
    await scripted.client.unsubscribeResource({ uri: NOTE_URI })
    assert.equal(await scripted.app.mcp.notifyResourceUpdated(NOTE_URI), 0)
  })

  test('app.mcp.notifyListChanged() reaches every session on its GET stream, and counts them', HANG_GUARD, async (t) => {
    const running = await start(t)
    const clients = [await connectMcp(t, running), await connectMcp(t, running)]
    assert.equal(await running.app.mcp.notifyListChanged('tools'), 2)
    for (const scripted of clients) await scripted.nextNotification('notifications/tools/list_changed')
  })

  test('ctx.notifyListChanged() reaches every session, the caller\'s included', HANG_GUARD, async (t) => {
    const running = await start(t)
    const [caller, other] = [await connectMcp(t, running), await connectMcp(t, running)]
    await caller.client.callTool({ name: 'announce', arguments: { list: 'resources' } })
    await caller.nextNotification('notifications/resources/list_changed')
    await other.nextNotification('notifications/resources/list_changed')
  })

  test('a session the client ended is no longer told about changes', HANG_GUARD, async (t) => {
    const scripted = await connect(t)
    await scripted.client.subscribeResource({ uri: NOTE_URI })
    assert.equal(await scripted.app.mcp.notifyListChanged('tools'), 1)
    const transport = scripted.client.transport as unknown as { terminateSession: () => Promise<void> }
    await transport.terminateSession()
    assert.equal(await scripted.app.mcp.notifyListChanged('tools'), 0)
    assert.equal(await scripted.app.mcp.notifyResourceUpdated(NOTE_URI), 0)
  })

  test('aborting a call sends notifications/cancelled and fires the tool\'s ctx.signal with the client\'s reason', HANG_GUARD, async (t) => {
    await checkCancellation(await connect(t), 'stateful-cancel')
  })
})
