import { test, describe, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { Client as ModernClient, StreamableHTTPClientTransport as ModernHttpTransport } from '@modelcontextprotocol/client'
import { StdioClientTransport as ModernStdioTransport } from '@modelcontextprotocol/client/stdio'
import { TOKEN } from '../helpers/app.js'
import { REPO_ROOT } from '../helpers/spawn-server.js'
import { waitUntil } from '../helpers/stateful-http.js'
import { startServerToClientApp } from '../helpers/server-to-client-app.js'
import { CLIENT_ROOTS, afterDelivery, HANG_GUARD } from '../helpers/scripted-client.js'
import { NOTE_URI, OTHER_NOTE_URI } from '../helpers/server-to-client-tools.js'

/**
 * The server-to-client features in the 2026-07-28 era, with the SDK's 2.x client pinned to that revision: questions
 * to the client are input_required rounds, log messages follow the level in `_meta`, changes arrive on
 * `subscriptions/listen`, and cancelling closes the request (HTTP) or sends notifications/cancelled (stdio).
 * Legacy SSE speaks 2024-11-05 only, so it has no part here.
 */

/** What the host does when the test asks it to tell clients about a change: app.mcp over HTTP, a tool over stdio. */
interface Host {
  notifyResourceUpdated: (client: ModernClient, uri: string) => Promise<number>
  notifyListChanged: (client: ModernClient, list: 'tools' | 'prompts' | 'resources') => Promise<number>
}

interface Connected {
  client: ModernClient
  /** What reaches the client's transport, in order: `progress <n>`, `result` (see keepNotificationsFirst). */
  arrivals: string[]
  host: Host
  /** The server-to-client questions the client was asked, by method. */
  asked: string[]
  /** Notifications that reached the client, in order (method, params). */
  notifications: Array<{ method: string, params: any }>
}

interface Target {
  name: string
  /** How the server sees a cancelled call end: the reason its ctx.signal gives. */
  cancelReason: string
  connect: (t: TestContext) => Promise<Connected>
}

function newClient (asked: string[], notifications: Connected['notifications']): ModernClient {
  const client = new ModernClient({ name: 'server-to-client-2026', version: '1.0.0' }, {
    versionNegotiation: { mode: { pin: '2026-07-28' } },
    capabilities: { elicitation: { form: {} }, sampling: {}, roots: {} }
  })
  client.setRequestHandler('elicitation/create', async () => {
    asked.push('elicitation/create')
    return { action: 'accept', content: { name: 'Ada' } }
  })
  client.setRequestHandler('sampling/createMessage', async (request) => {
    asked.push('sampling/createMessage')
    const prompt = request.params.messages.map((message) => (message.content as { text?: string }).text ?? '').join(' ')
    return { role: 'assistant', model: 'test-model', stopReason: 'endTurn', content: { type: 'text', text: prompt.replace(/^Summarize: /, 'in short, ') } }
  })
  client.setRequestHandler('roots/list', async () => {
    asked.push('roots/list')
    return { roots: CLIENT_ROOTS }
  })
  for (const method of [
    'notifications/message', 'notifications/resources/updated', 'notifications/tools/list_changed',
    'notifications/prompts/list_changed', 'notifications/resources/list_changed'
  ] as const) {
    client.setNotificationHandler(method, (notification: { params?: unknown }) => { notifications.push({ method, params: notification.params }) })
  }
  return client
}

/** The message hook of a 2.x transport, which the client sets on connect. */
interface Hooked { onmessage?: (message: any, extra?: any) => void }

/**
 * Records what reaches the transport, and hands responses to the client one microtask after notifications: like
 * the 1.x client (see sse-sdk.ts), the 2.x client drops progress that arrives in the same chunk as its result.
 */
function keepNotificationsFirst (transport: Hooked): string[] {
  const arrivals: string[] = []
  const deliver = transport.onmessage
  if (deliver === undefined) throw new Error('connect the client first')
  transport.onmessage = (message, extra) => {
    if ('method' in message) {
      arrivals.push(message.method === 'notifications/progress' ? `progress ${String(message.params?.progress)}` : message.method)
      deliver(message, extra)
    } else {
      arrivals.push('result')
      queueMicrotask(() => { deliver(message, extra) })
    }
  }
  return arrivals
}

async function toolText (client: ModernClient, name: string, args: Record<string, unknown> = {}, meta?: Record<string, unknown>): Promise<string> {
  const result = await client.callTool(meta === undefined ? { name, arguments: args } : { name, arguments: args, _meta: meta })
  return String((result.content as Array<{ text?: string }>)[0].text)
}

const targets: Target[] = [
  {
    name: 'Streamable HTTP',
    // The 2.x client cancels a 2026 request by closing its response, as that revision says.
    cancelReason: 'Error: The client closed the connection',
    connect: async (t) => {
      const { app, baseUrl } = await startServerToClientApp(t)
      const asked: string[] = []
      const notifications: Connected['notifications'] = []
      const client = newClient(asked, notifications)
      const transport = new ModernHttpTransport(new URL(`${baseUrl}/mcp`), { requestInit: { headers: { authorization: `Bearer ${TOKEN}` } } })
      await client.connect(transport)
      t.after(async () => { await client.close() })
      const host: Host = {
        notifyResourceUpdated: async (_client, uri) => await app.mcp.notifyResourceUpdated(uri),
        notifyListChanged: async (_client, list) => await app.mcp.notifyListChanged(list)
      }
      return { client, arrivals: keepNotificationsFirst(transport as unknown as Hooked), host, asked, notifications }
    }
  },
  {
    name: 'stdio',
    cancelReason: 'AbortError: Cancelled by the client: the user pressed stop',
    connect: async (t) => {
      const asked: string[] = []
      const notifications: Connected['notifications'] = []
      const client = newClient(asked, notifications)
      const transport = new ModernStdioTransport({ command: process.execPath, args: ['dist/test/fixtures/stdio-host.js'], cwd: REPO_ROOT, stderr: 'pipe' })
      await client.connect(transport)
      t.after(async () => { await client.close() })
      const told = async (client: ModernClient, args: Record<string, unknown>): Promise<number> =>
        ((await client.callTool({ name: 'host_notify', arguments: args })).structuredContent as { told: number }).told
      const host: Host = {
        notifyResourceUpdated: async (client, uri) => await told(client, { uri }),
        notifyListChanged: async (client, list) => await told(client, { list })
      }
      return { client, arrivals: keepNotificationsFirst(transport as unknown as Hooked), host, asked, notifications }
    }
  }
]

async function nextNotification (connected: Connected, method: string): Promise<{ method: string, params: any }> {
  await waitUntil(`a ${method} notification`, () => connected.notifications.some((notification) => notification.method === method))
  return connected.notifications.find((notification) => notification.method === method) as { method: string, params: any }
}

for (const target of targets) {
  describe(`server-to-client features in the 2026-07-28 era over ${target.name}, with the SDK 2.x client`, () => {
    test('ctx.elicit() ends the round input_required, and the retry with the user\'s answer completes', HANG_GUARD, async (t) => {
      const { client, asked } = await target.connect(t)
      assert.equal(client.getNegotiatedProtocolVersion(), '2026-07-28')
      assert.equal(await toolText(client, 'greet'), 'Hello, Ada!')
      assert.deepEqual(asked, ['elicitation/create'])
    })

    test('ctx.sample() is answered by the client\'s sampling handler through an input-required round', HANG_GUARD, async (t) => {
      const { client, asked } = await target.connect(t)
      assert.equal(await toolText(client, 'summarize', { text: 'the minutes' }), 'test-model said: in short, the minutes')
      assert.deepEqual(asked, ['sampling/createMessage'])
    })

    test('ctx.listRoots() is answered with the client\'s roots through an input-required round', HANG_GUARD, async (t) => {
      const { client, asked } = await target.connect(t)
      assert.equal(await toolText(client, 'list_roots'), CLIENT_ROOTS.map((root) => root.uri).join(' '))
      assert.deepEqual(asked, ['roots/list'])
    })

    test('three questions asked at once with ctx.requestInputs() are one round, each answer under its key', HANG_GUARD, async (t) => {
      const { client, asked } = await target.connect(t)
      assert.equal(await toolText(client, 'gather'), 'Ada / in short, all / 2 roots')
      assert.deepEqual([...asked].sort(), ['elicitation/create', 'roots/list', 'sampling/createMessage'])
    })

    test('ctx.progress() reaches the client\'s onprogress, in order, before the result', HANG_GUARD, async (t) => {
      const { client, arrivals } = await target.connect(t)
      const seen: number[] = []
      const result = await client.callTool({ name: 'countdown', arguments: { steps: 3 } }, { onprogress: (progress: { progress: number }) => { seen.push(progress.progress) } })
      assert.deepEqual(result.content, [{ type: 'text', text: 'counted 3' }])
      assert.deepEqual(arrivals, ['progress 1', 'progress 2', 'progress 3', 'result'])
      assert.deepEqual(seen, [1, 2, 3])
    })

    test('without a log level in _meta, ctx.sendLog() sends the client nothing', HANG_GUARD, async (t) => {
      const connected = await target.connect(t)
      assert.equal(await toolText(connected.client, 'chatter'), 'chattered')
      await afterDelivery()
      assert.deepEqual(connected.notifications, [])
    })

    test('with a log level in _meta, ctx.sendLog() sends the messages at that level and above', HANG_GUARD, async (t) => {
      const connected = await target.connect(t)
      assert.equal(await toolText(connected.client, 'chatter', {}, { 'io.modelcontextprotocol/logLevel': 'warning' }), 'chattered')
      await afterDelivery()
      assert.deepEqual(connected.notifications.map((notification) => notification.params.level), ['warning', 'error'])
      assert.deepEqual(connected.notifications[0].params.data, 'a warning message')
    })

    test('subscriptions/listen on a URI delivers the host\'s notifyResourceUpdated() for that URI only, and counts it', HANG_GUARD, async (t) => {
      const connected = await target.connect(t)
      const subscription = await connected.client.listen({ resourceSubscriptions: [NOTE_URI] })
      assert.deepEqual(subscription.honoredFilter, { resourceSubscriptions: [NOTE_URI] })
      assert.equal(await connected.host.notifyResourceUpdated(connected.client, OTHER_NOTE_URI), 0)
      assert.equal(await connected.host.notifyResourceUpdated(connected.client, NOTE_URI), 1)
      const updated = await nextNotification(connected, 'notifications/resources/updated')
      assert.equal(updated.params.uri, NOTE_URI)
      await subscription.close()
    })

    test('subscriptions/listen on a URI delivers ctx.notifyResourceUpdated() from a call', HANG_GUARD, async (t) => {
      const connected = await target.connect(t)
      const subscription = await connected.client.listen({ resourceSubscriptions: [NOTE_URI] })
      assert.equal(await toolText(connected.client, 'touch', { uri: OTHER_NOTE_URI }), `touched ${OTHER_NOTE_URI}`)
      assert.equal(await toolText(connected.client, 'touch', { uri: NOTE_URI }), `touched ${NOTE_URI}`)
      const updated = await nextNotification(connected, 'notifications/resources/updated')
      assert.equal(updated.params.uri, NOTE_URI, 'the first update to arrive is the subscribed one')
      await subscription.close()
    })

    test('subscriptions/listen delivers the host\'s notifyListChanged() once, for the lists it asked for only', HANG_GUARD, async (t) => {
      const connected = await target.connect(t)
      const subscription = await connected.client.listen({ toolsListChanged: true, resourceSubscriptions: [NOTE_URI] })
      assert.equal(await connected.host.notifyListChanged(connected.client, 'prompts'), 0, 'nobody listens for prompts')
      assert.equal(await connected.host.notifyListChanged(connected.client, 'tools'), 1, 'one client listens for tools')
      // The listen stream keeps order: once this last update is in, whatever came before it is too.
      await connected.host.notifyResourceUpdated(connected.client, NOTE_URI)
      await nextNotification(connected, 'notifications/resources/updated')
      assert.deepEqual(connected.notifications.map((notification) => notification.method), [
        'notifications/tools/list_changed', 'notifications/resources/updated'
      ])
      await subscription.close()
    })

    test('subscriptions/listen delivers ctx.notifyListChanged() from a call', HANG_GUARD, async (t) => {
      const connected = await target.connect(t)
      const subscription = await connected.client.listen({ resourcesListChanged: true })
      assert.equal(await toolText(connected.client, 'announce', { list: 'resources' }), 'announced resources')
      await nextNotification(connected, 'notifications/resources/list_changed')
      await subscription.close()
    })

    test('once the client closes its subscription, the host\'s changes reach nobody', HANG_GUARD, async (t) => {
      const connected = await target.connect(t)
      const subscription = await connected.client.listen({ toolsListChanged: true })
      assert.equal(await connected.host.notifyListChanged(connected.client, 'tools'), 1)
      await subscription.close()
      await waitUntil('the server to drop the subscription', async () => await connected.host.notifyListChanged(connected.client, 'tools') === 0)
    })

    test('aborting a call fires the tool\'s ctx.signal with the reason the transport carries', HANG_GUARD, async (t) => {
      const { client } = await target.connect(t)
      const key = `modern-cancel-${target.name}`
      const controller = new AbortController()
      let started!: () => void
      const running = new Promise<void>((resolve) => { started = resolve })
      const call = client.callTool({ name: 'wait_for_cancel', arguments: { key } }, { signal: controller.signal, onprogress: () => { started() } })
      await running
      controller.abort('the user pressed stop')
      await assert.rejects(call)
      let reason: string | null = null
      await waitUntil('the call\'s signal to fire', async () => {
        reason = ((await client.callTool({ name: 'cancellation', arguments: { key } })).structuredContent as { reason: string | null }).reason
        return reason !== null
      })
      assert.equal(reason, target.cancelReason)
    })
  })
}
