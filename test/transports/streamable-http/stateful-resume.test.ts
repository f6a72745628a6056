import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import type { ServerResponse } from 'node:http'
import { connect } from 'node:net'
import { TOKEN } from '../../helpers/app.js'
import { rpc } from '../../helpers/raw-http.js'
import { getStream, initializeSession, postStream, startStatefulApp, waitUntil, type OpenStream } from '../../helpers/stateful-http.js'
import { connectStateful } from '../../helpers/stateful-sdk.js'
import { gates } from '../../helpers/stateful-tools.js'

function phasedCall (gate: string, id: number): Record<string, unknown> {
  return rpc('tools/call', { name: 'phased', arguments: { gate }, _meta: { progressToken: gate } }, id)
}

/** What a resumed stream carried, as short labels: `progress 2`, `result 7`, `tools/list_changed`. */
async function labels (stream: OpenStream): Promise<string[]> {
  return (await stream.reader.rest()).map(({ message }) => {
    if (message.method === 'notifications/progress') return `progress ${String(message.params.progress)}`
    if (typeof message.method === 'string') return message.method.replace('notifications/', '')
    return `result ${String(message.id)}`
  })
}

describe('stateful Streamable HTTP: resuming POST answers', () => {
  test('a call whose stream dropped is resumed after it finished: the missed events arrive exactly once', async (t) => {
    const { app, mcpUrl } = await startStatefulApp(t)
    const session = await initializeSession(mcpUrl)
    const call = await postStream(t, mcpUrl, session.id, phasedCall('after-finish', 7))
    const priming = await call.reader.next()
    assert.equal(priming?.data, '')
    const first = await call.reader.nextMessage()
    assert.equal(first?.message.params.progress, 1)
    call.disconnect()
    gates.open('after-finish')
    await waitUntil('the call to finish', () => app.mcp.status().inFlight === 0)

    const resumed = await getStream(t, mcpUrl, session.id, first?.id)
    assert.equal(resumed.status, 200)
    assert.equal(resumed.headers.get('content-type'), 'text/event-stream')
    assert.deepEqual(await labels(resumed), ['progress 2', 'progress 3', 'result 7'])
  })

  test('a GET resuming a call still running takes the stream over and gets the rest and the result', async (t) => {
    const { mcpUrl } = await startStatefulApp(t)
    const session = await initializeSession(mcpUrl)
    const call = await postStream(t, mcpUrl, session.id, phasedCall('take-over', 8))
    const first = await call.reader.nextMessage()
    call.disconnect()
    const resumed = await getStream(t, mcpUrl, session.id, first?.id)
    const priming = await resumed.reader.next()
    assert.equal(priming?.data, '')
    assert.match(priming?.id ?? '', /^\d+:\d+$/)
    gates.open('take-over')
    assert.deepEqual(await labels(resumed), ['progress 2', 'progress 3', 'result 8'])
  })

  test('resuming from the last event received replays nothing again', async (t) => {
    const { app, mcpUrl } = await startStatefulApp(t)
    const session = await initializeSession(mcpUrl)
    const call = await postStream(t, mcpUrl, session.id, phasedCall('twice', 9))
    const first = await call.reader.nextMessage()
    call.disconnect()
    gates.open('twice')
    await waitUntil('the call to finish', () => app.mcp.status().inFlight === 0)
    const resumed = await getStream(t, mcpUrl, session.id, first?.id)
    const events = await resumed.reader.rest()
    assert.equal(events.length, 3)
    const again = await getStream(t, mcpUrl, session.id, events[2].id)
    assert.deepEqual(await again.reader.rest(), [])
  })

  test('resuming an answer that is complete and no longer kept gets 204, so the client stops', async (t) => {
    const { app, mcpUrl } = await startStatefulApp(t, { eventStore: { maxEvents: 0 } })
    const session = await initializeSession(mcpUrl)
    const call = await postStream(t, mcpUrl, session.id, rpc('tools/call', { name: 'slow', arguments: { ms: 10 } }))
    const priming = await call.reader.next()
    assert.equal((await call.reader.rest()).length, 1)
    await waitUntil('the call to finish', () => app.mcp.status().inFlight === 0)
    const resumed = await getStream(t, mcpUrl, session.id, priming?.id)
    assert.equal(resumed.status, 204)
  })

  test('a Last-Event-ID that names no stream of the session gets 400', async (t) => {
    const { mcpUrl } = await startStatefulApp(t)
    const session = await initializeSession(mcpUrl)
    for (const lastEventId of ['garbage', '99:1', '1:2:3']) {
      const response = await getStream(t, mcpUrl, session.id, lastEventId)
      assert.equal(response.status, 400, lastEventId)
      const body = await response.response.json() as { error: { message: string } }
      assert.match(body.error.message, /Last-Event-ID/)
    }
  })

  test('the SDK client resumes a POST stream the server cut and still gets every event and the result', async (t) => {
    const { app, mcpUrl } = await startStatefulApp(t, { retryMs: 20 })
    const open = new Set<ServerResponse>()
    app.server.on('request', (req, res: ServerResponse) => {
      if (req.method !== 'POST') return
      open.add(res)
      res.once('close', () => open.delete(res))
    })
    const { client } = await connectStateful(t, mcpUrl, TOKEN)
    const seen: number[] = []
    const result = await client.callTool({ name: 'phased', arguments: { gate: 'sdk-resume' } }, undefined, {
      onprogress: ({ progress }) => {
        seen.push(progress)
        if (progress !== 1) return
        // Cut the call's connection from the server side, as a proxy that times out would, then let the call go on.
        for (const res of open) res.destroy()
        gates.open('sdk-resume')
      }
    })
    assert.deepEqual(result.content, [{ type: 'text', text: 'passed sdk-resume' }])
    assert.deepEqual(seen, [1, 2, 3])
  })
})

describe('stateful Streamable HTTP: a client that stops reading', () => {
  test('is cut off past maxBufferedBytes, while the call finishes and its result can still be resumed', { timeout: 60_000 }, async (t) => {
    const { app, baseUrl, mcpUrl, warnings } = await startStatefulApp(t, { maxBufferedBytes: 1024 })
    const session = await initializeSession(mcpUrl)
    const { port } = new URL(baseUrl)
    const socket = connect(Number(port), '127.0.0.1')
    t.after(() => { socket.destroy() })
    const body = JSON.stringify(rpc('tools/call', { name: 'flood', arguments: { count: 400, size: 64 * 1024 }, _meta: { progressToken: 'f' } }, 11))
    socket.write(`POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${TOKEN}\r\nMcp-Session-Id: ${session.id}\r\n` +
      `Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)
    const primingId = await new Promise<string>((resolve, reject) => {
      let received = ''
      socket.setEncoding('utf8')
      socket.on('error', reject)
      socket.on('data', function onData (chunk: string) {
        received += chunk
        const match = /\nid: (\d+:\d+)\n/.exec(received)
        if (match === null) return
        socket.off('data', onData)
        socket.pause()
        resolve(match[1])
      })
    })
    await waitUntil('the call to finish', () => app.mcp.status().inFlight === 0, 30_000)
    assert.ok(warnings.some((message) => message.includes('stopped reading its session stream')), warnings.join('\n'))
    assert.equal(app.mcp.status().sessions.streamableHttp, 1)
    const resumed = await getStream(t, mcpUrl, session.id, primingId)
    const events = await resumed.reader.rest()
    assert.deepEqual(events.at(-1)?.message.result.content, [{ type: 'text', text: 'sent 400' }])
  })
})

describe('stateful Streamable HTTP: resuming the GET stream', () => {
  test('notifications sent while the GET stream was away arrive exactly once after Last-Event-ID', async (t) => {
    const { app, mcpUrl } = await startStatefulApp(t)
    const session = await initializeSession(mcpUrl)
    const stream = await getStream(t, mcpUrl, session.id)
    await stream.reader.next()
    app.mcp.notifyListChanged('tools')
    const seen = await stream.reader.nextMessage()
    stream.disconnect()
    app.mcp.notifyListChanged('prompts')
    app.mcp.notifyListChanged('resources')
    const resumed = await getStream(t, mcpUrl, session.id, seen?.id)
    await resumed.reader.next()
    assert.deepEqual((await resumed.reader.nextMessage())?.message.method, 'notifications/prompts/list_changed')
    assert.deepEqual((await resumed.reader.nextMessage())?.message.method, 'notifications/resources/list_changed')
    app.mcp.notifyListChanged('tools')
    assert.deepEqual((await resumed.reader.nextMessage())?.message.method, 'notifications/tools/list_changed')
  })

  test('the first GET stream of a session gets what was sent before it opened, and a later fresh one does not', async (t) => {
    const { app, mcpUrl } = await startStatefulApp(t)
    const session = await initializeSession(mcpUrl)
    assert.equal((await session.post(rpc('resources/subscribe', { uri: 'memo://today' }))).status, 200)
    app.mcp.notifyResourceUpdated('memo://today')
    const first = await getStream(t, mcpUrl, session.id)
    const update = await first.reader.nextMessage()
    assert.deepEqual(update?.message, { jsonrpc: '2.0', method: 'notifications/resources/updated', params: { uri: 'memo://today' } })
    first.disconnect()
    let fresh: OpenStream | undefined
    await waitUntil('the dropped stream to be let go', async () => {
      fresh = await getStream(t, mcpUrl, session.id)
      return fresh.status === 200
    })
    await fresh?.reader.next()
    app.mcp.notifyListChanged('tools')
    assert.equal((await fresh?.reader.nextMessage())?.message.method, 'notifications/tools/list_changed')
  })

  test('a GET stream resumed with Last-Event-ID holds the session\'s one GET stream until it is dropped', async (t) => {
    const { mcpUrl } = await startStatefulApp(t)
    const session = await initializeSession(mcpUrl)
    const first = await getStream(t, mcpUrl, session.id)
    const priming = await first.reader.next()
    first.disconnect()
    const resumed = await getStream(t, mcpUrl, session.id, priming?.id)
    await resumed.reader.next()
    assert.equal((await getStream(t, mcpUrl, session.id)).status, 409, 'the resumed stream holds it')
    resumed.disconnect()
    await waitUntil('the resumed stream to let go', async () => (await getStream(t, mcpUrl, session.id)).status === 200)
  })

  test('a resume after the event store dropped events delivers what it kept', async (t) => {
    const { app, mcpUrl } = await startStatefulApp(t, { eventStore: { maxEvents: 2 } })
    const session = await initializeSession(mcpUrl)
    const stream = await getStream(t, mcpUrl, session.id)
    const priming = await stream.reader.next()
    stream.disconnect()
    for (const kind of ['tools', 'prompts', 'resources', 'tools'] as const) app.mcp.notifyListChanged(kind)
    const resumed = await getStream(t, mcpUrl, session.id, priming?.id)
    await resumed.reader.next()
    assert.equal((await resumed.reader.nextMessage())?.message.method, 'notifications/resources/list_changed')
    assert.equal((await resumed.reader.nextMessage())?.message.method, 'notifications/tools/list_changed')
  })
})
