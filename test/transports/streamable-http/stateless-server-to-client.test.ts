import { test, describe, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import type { FastifyInstance } from 'fastify'
import { AUTH_HEADER } from '../../helpers/app.js'
import { request } from '../../helpers/raw-http.js'
import { waitUntil } from '../../helpers/stateful-http.js'
import { connectMcp, startServerToClientApp } from '../../helpers/server-to-client-app.js'
import { afterDelivery, type ScriptedClient, HANG_GUARD } from '../../helpers/scripted-client.js'
import {
  checkCancellation, checkElicitation, checkLogsWithoutLevel, checkProgress, checkRoots, checkSampling,
  checkSeveralQuestionsAtOnce, logLevelsOfOneCall
} from '../../helpers/server-to-client-checks.js'
import { cancellationReason, LOG_LEVELS, NOTE_URI } from '../../helpers/server-to-client-tools.js'

async function connect (t: TestContext): Promise<ScriptedClient & { app: FastifyInstance, baseUrl: string }> {
  const running = await startServerToClientApp(t)
  return { ...await connectMcp(t, running), ...running }
}

describe('server-to-client features over stateless Streamable HTTP, with the SDK 1.x client', () => {
  test('ctx.elicit() reaches the client on the call\'s answer stream, and its answer, POSTed without a session, settles the call', HANG_GUARD, async (t) => {
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

  test('ctx.sendLog() messages reach the client on the call\'s answer stream', HANG_GUARD, async (t) => {
    await checkLogsWithoutLevel(await connect(t))
  })

  test('logging/setLevel is accepted, but with no session to keep it every ctx.sendLog() message still reaches the call\'s stream', HANG_GUARD, async (t) => {
    const scripted = await connect(t)
    assert.deepEqual(await scripted.client.setLoggingLevel('error'), {})
    assert.deepEqual(await logLevelsOfOneCall(scripted), [...LOG_LEVELS])
  })

  test('resources/subscribe is accepted, but with no session stream app.mcp.notifyResourceUpdated() can tell nobody', HANG_GUARD, async (t) => {
    const scripted = await connect(t)
    assert.deepEqual(await scripted.client.subscribeResource({ uri: NOTE_URI }), {})
    assert.equal(await scripted.app.mcp.notifyResourceUpdated(NOTE_URI), 0)
    await scripted.client.callTool({ name: 'touch', arguments: { uri: NOTE_URI } })
    await afterDelivery()
    assert.deepEqual(scripted.seen('notifications/resources/updated'), [], 'not even on the answer stream of the call that touched it')
  })

  test('there is no standalone stream (GET /mcp is 405), so app.mcp.notifyListChanged() and ctx.notifyListChanged() can tell nobody', HANG_GUARD, async (t) => {
    const scripted = await connect(t)
    const get = await request(`${scripted.baseUrl}/mcp`, { headers: { ...AUTH_HEADER, accept: 'text/event-stream' } })
    assert.equal(get.status, 405)
    assert.equal(await scripted.app.mcp.notifyListChanged('tools'), 0)
    await scripted.client.callTool({ name: 'announce', arguments: { list: 'tools' } })
    await afterDelivery()
    assert.deepEqual(scripted.notifications, [])
  })

  test('aborting a call sends notifications/cancelled and fires the tool\'s ctx.signal with the client\'s reason', HANG_GUARD, async (t) => {
    await checkCancellation(await connect(t), 'stateless-cancel')
  })

  test('a client that goes away mid-call closes the answer stream, which fires the tool\'s ctx.signal', HANG_GUARD, async (t) => {
    const scripted = await connect(t)
    const key = 'stateless-gone'
    let started!: () => void
    const running = new Promise<void>((resolve) => { started = resolve })
    const call = scripted.client.callTool({ name: 'wait_for_cancel', arguments: { key } }, undefined, { onprogress: () => { started() } })
    await running
    await scripted.client.close()
    await assert.rejects(call)
    await waitUntil('the call to stop', () => cancellationReason(key) !== undefined)
    assert.equal(cancellationReason(key), 'Error: The client closed the connection')
  })
})
