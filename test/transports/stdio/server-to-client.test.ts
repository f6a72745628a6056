import { test, describe, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { connectScripted, stdioTransport, type ScriptedClient, HANG_GUARD } from '../../helpers/scripted-client.js'
import {
  checkCancellation, checkElicitation, checkLogsHonourSetLevel, checkLogsWithoutLevel, checkProgress, checkRoots,
  checkSampling, checkSeveralQuestionsAtOnce, checkSubscribedUpdate
} from '../../helpers/server-to-client-checks.js'
import { NOTE_URI, OTHER_NOTE_URI } from '../../helpers/server-to-client-tools.js'

/** `node server --transport stdio` serving the server-to-client tools, as Claude Code or Cursor would start it. */
const NODE_SERVER = ['server', '--transport', 'stdio', '--tools', 'dist/test/helpers/server-to-client-tools.js']
/** The library's serveStdio in an application that calls the dispatcher's notify API itself. */
const STDIO_HOST = ['dist/test/fixtures/stdio-host.js']

async function connect (t: TestContext, args = NODE_SERVER): Promise<ScriptedClient> {
  return await connectScripted(t, stdioTransport(args))
}

async function callToolText (scripted: ScriptedClient, name: string, args: Record<string, unknown>): Promise<unknown> {
  const result = await scripted.client.callTool({ name, arguments: args })
  return result.structuredContent ?? (result.content as Array<{ text: string }>)[0].text
}

describe('server-to-client features over stdio, with the SDK 1.x client', () => {
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

  test('after resources/subscribe, ctx.notifyResourceUpdated() reaches the client for that URI only', HANG_GUARD, async (t) => {
    const scripted = await connect(t)
    await checkSubscribedUpdate(scripted, NOTE_URI, OTHER_NOTE_URI, async (uri) => {
      assert.equal(await callToolText(scripted, 'touch', { uri }), `touched ${uri}`)
    })
  })

  test('after resources/unsubscribe, updates of that URI no longer reach the client', HANG_GUARD, async (t) => {
    const scripted = await connect(t)
    await scripted.client.subscribeResource({ uri: NOTE_URI })
    await scripted.client.unsubscribeResource({ uri: NOTE_URI })
    await scripted.client.subscribeResource({ uri: OTHER_NOTE_URI })
    await callToolText(scripted, 'touch', { uri: NOTE_URI })
    await callToolText(scripted, 'touch', { uri: OTHER_NOTE_URI })
    const updated = await scripted.nextNotification('notifications/resources/updated')
    assert.deepEqual(updated.params, { uri: OTHER_NOTE_URI }, 'the first update to arrive is the one still subscribed')
  })

  test('ctx.notifyListChanged() reaches the client as notifications/<list>/list_changed', HANG_GUARD, async (t) => {
    const scripted = await connect(t)
    assert.equal(await callToolText(scripted, 'announce', { list: 'prompts' }), 'announced prompts')
    assert.equal(await callToolText(scripted, 'announce', { list: 'tools' }), 'announced tools')
    await scripted.nextNotification('notifications/tools/list_changed')
    assert.deepEqual(scripted.notifications.map((notification) => notification.method), [
      'notifications/prompts/list_changed', 'notifications/tools/list_changed'
    ])
  })

  test('the host\'s dispatcher.notifyResourceUpdated() reaches the subscribed stdio client, and counts it', HANG_GUARD, async (t) => {
    const scripted = await connect(t, STDIO_HOST)
    assert.deepEqual(await callToolText(scripted, 'host_notify', { uri: NOTE_URI }), { told: 0 }, 'nobody subscribed yet')
    await checkSubscribedUpdate(scripted, NOTE_URI, OTHER_NOTE_URI, async (uri) => {
      assert.deepEqual(await callToolText(scripted, 'host_notify', { uri }), { told: uri === NOTE_URI ? 1 : 0 })
    })
  })

  test('the host\'s dispatcher.notifyListChanged() reaches the stdio client, and counts it', HANG_GUARD, async (t) => {
    const scripted = await connect(t, STDIO_HOST)
    assert.deepEqual(await callToolText(scripted, 'host_notify', { list: 'resources' }), { told: 1 })
    const changed = await scripted.nextNotification('notifications/resources/list_changed')
    assert.equal(changed.params, undefined)
  })

  test('aborting a call sends notifications/cancelled and fires the tool\'s ctx.signal with the client\'s reason', HANG_GUARD, async (t) => {
    await checkCancellation(await connect(t), 'stdio-cancel')
  })
})
