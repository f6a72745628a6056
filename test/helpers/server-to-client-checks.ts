import assert from 'node:assert/strict'
import type { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { afterDelivery, CLIENT_ROOTS, type ScriptedClient } from './scripted-client.js'
import { LOG_LEVELS } from './server-to-client-tools.js'
import { waitUntil } from './stateful-http.js'
import { keepProgressBeforeResults, recordArrivals } from './sse-sdk.js'

/**
 * The end-to-end checks of the server-to-client features, one per feature, shared by the test file of each
 * transport (test/transports/<transport>/server-to-client.test.ts): the server side is the tools of
 * server-to-client-tools.ts, the client side a `ScriptedClient`.
 */

function text (result: Awaited<ReturnType<Client['callTool']>>): string {
  const content = result.content as Array<{ type: string, text?: string }>
  assert.equal(content.length, 1, JSON.stringify(result))
  return String(content[0].text)
}

export async function checkElicitation ({ client, asked }: ScriptedClient): Promise<void> {
  assert.equal(text(await client.callTool({ name: 'greet', arguments: {} })), 'Hello, Ada!')
  assert.deepEqual(asked, ['elicitation/create'])
}

export async function checkSampling ({ client, asked }: ScriptedClient): Promise<void> {
  assert.equal(text(await client.callTool({ name: 'summarize', arguments: { text: 'the quarterly report' } })), 'test-model said: in short, the quarterly report')
  assert.deepEqual(asked, ['sampling/createMessage'])
}

export async function checkRoots ({ client, asked }: ScriptedClient): Promise<void> {
  assert.equal(text(await client.callTool({ name: 'list_roots', arguments: {} })), CLIENT_ROOTS.map((root) => root.uri).join(' '))
  assert.deepEqual(asked, ['roots/list'])
}

/** Three questions in flight at once: each answer must reach the question it answers. */
export async function checkSeveralQuestionsAtOnce ({ client, asked }: ScriptedClient): Promise<void> {
  assert.equal(text(await client.callTool({ name: 'gather', arguments: {} })), 'Ada / in short, all / 2 roots')
  assert.deepEqual([...asked].sort(), ['elicitation/create', 'roots/list', 'sampling/createMessage'])
}

/**
 * Progress must reach the client's transport before the result, and its onprogress. The SDK client drops
 * progress that arrives in the same chunk as the result (see keepProgressBeforeResults), hence the workaround.
 */
export async function checkProgress ({ client }: ScriptedClient): Promise<void> {
  keepProgressBeforeResults(client)
  const arrivals = recordArrivals(client)
  const seen: number[] = []
  const result = await client.callTool({ name: 'countdown', arguments: { steps: 3 } }, undefined, {
    onprogress: (progress) => { seen.push(progress.progress) }
  })
  assert.equal(text(result), 'counted 3')
  assert.deepEqual(arrivals.map((arrival) => arrival.replace(/^result .*/, 'result')), ['progress 1', 'progress 2', 'progress 3', 'result'])
  assert.deepEqual(seen, [1, 2, 3])
}

/** Calls the chatter tool and returns the levels of the log messages that reached the client during the call. */
export async function logLevelsOfOneCall (scripted: ScriptedClient): Promise<string[]> {
  const before = scripted.seen('notifications/message').length
  assert.equal(text(await scripted.client.callTool({ name: 'chatter', arguments: {} })), 'chattered')
  await afterDelivery()
  const messages = scripted.seen('notifications/message').slice(before)
  for (const message of messages) {
    assert.equal(message.params.logger, 'chatter')
    assert.equal(message.params.data, `a ${String(message.params.level)} message`)
  }
  return messages.map((message) => String(message.params.level))
}

export async function checkLogsWithoutLevel (scripted: ScriptedClient): Promise<void> {
  assert.deepEqual(await logLevelsOfOneCall(scripted), [...LOG_LEVELS])
}

export async function checkLogsHonourSetLevel (scripted: ScriptedClient): Promise<void> {
  await scripted.client.setLoggingLevel('warning')
  assert.deepEqual(await logLevelsOfOneCall(scripted), ['warning', 'error'])
  await scripted.client.setLoggingLevel('error')
  assert.deepEqual(await logLevelsOfOneCall(scripted), ['error'])
}

/**
 * Cancels a running `wait_for_cancel` call with an AbortSignal once it has reported that it runs, and resolves
 * with the reason the tool's ctx.signal gave (polled through the `cancellation` tool, so it works out of process).
 */
export async function cancelAndReadReason ({ client }: ScriptedClient, key: string): Promise<string> {
  const controller = new AbortController()
  let started!: () => void
  const running = new Promise<void>((resolve) => { started = resolve })
  const call = client.callTool({ name: 'wait_for_cancel', arguments: { key } }, undefined, {
    signal: controller.signal,
    onprogress: () => { started() }
  })
  await running
  controller.abort('the user pressed stop')
  await assert.rejects(call, /the user pressed stop/)
  let reason: string | null = null
  await waitUntil(`the ${key} call's signal to fire`, async () => {
    const result = await client.callTool({ name: 'cancellation', arguments: { key } })
    reason = (result.structuredContent as { reason: string | null }).reason
    return reason !== null
  })
  return String(reason)
}

export async function checkCancellation (scripted: ScriptedClient, key: string): Promise<void> {
  assert.equal(await cancelAndReadReason(scripted, key), 'AbortError: Cancelled by the client: the user pressed stop')
}

/** Subscribes to `uri`, has `update` report it (and `other`) updated, and checks that only `uri`'s update arrives. */
export async function checkSubscribedUpdate (
  scripted: ScriptedClient, uri: string, other: string, update: (uri: string) => Promise<void>
): Promise<void> {
  await scripted.client.subscribeResource({ uri })
  await update(other)
  await update(uri)
  const updated = await scripted.nextNotification('notifications/resources/updated')
  assert.deepEqual(updated.params, { uri })
}
