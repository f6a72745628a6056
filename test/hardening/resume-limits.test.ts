import { test, describe, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import type { Socket } from 'node:net'
import { Type } from 'typebox'
import { defineResource, defineTool } from '../../plugin/core.js'
import { AUTH_HEADER } from '../helpers/app.js'
import { rpc } from '../helpers/raw-http.js'
import { getStream, initializeSession, postStream, startStatefulApp, type RawSession } from '../helpers/stateful-http.js'
import { gates, statefulTools } from '../helpers/stateful-tools.js'
import { kernelQueuedBytes, resumeWithoutReading, watchServerSockets, type ServerSockets } from './stalled-readers.js'

/**
 * Finding 8 of issue 17: a GET of a few hundred bytes with an old `Last-Event-ID` makes the server write a
 * session's whole kept log; repeated by a client that never reads, every replay stayed in socket buffers (200 GETs
 * held 151 MiB). One stream of a session is carried by one connection at a time, replays included.
 */

const MiB = 1024 * 1024
/** GETs per attack: before the fix each held a whole replay, about `N × log` in all. */
const RESUMES = 40

/** Sends `count` progress messages of `size` bytes, then waits for the gate `release:<key>` unless `key` is ''. */
const floodThenWait = defineTool({
  name: 'flood_then_wait',
  description: 'Large progress messages, then waits',
  input: Type.Object({ count: Type.Integer(), size: Type.Integer(), key: Type.String() }),
  handler: async ({ count, size, key }, ctx) => {
    for (let i = 1; i <= count; i++) ctx.progress(i, count, 'x'.repeat(size))
    if (key !== '') await gates.wait(`release:${key}`)
    return `sent ${count}`
  }
})

const watched = defineResource({
  uriTemplate: 'big://{name}',
  name: 'big',
  handler: (uri) => uri
})

async function startApp (t: TestContext): Promise<{ mcpUrl: string, baseUrl: string, port: number, server: ServerSockets, session: RawSession, notify: (uri: string) => Promise<number> }> {
  const { app, baseUrl, mcpUrl } = await startStatefulApp(t, { eventStore: { maxEvents: 1000, maxBytes: MiB } },
    { tools: [...statefulTools, floodThenWait], resources: [watched] })
  const session = await initializeSession(mcpUrl)
  const server = watchServerSockets(app)
  const port = (app.server.address() as { port: number }).port
  return { mcpUrl, baseUrl, port, server, session, notify: async (uri) => await app.mcp.notifyResourceUpdated(uri) }
}

/** What the attack left behind: server-side connections still open, and bytes waiting for its clients. */
function leftOver (clients: Socket[], server: ServerSockets, port: number): { open: number, heldBytes: number } {
  const open = clients.filter((client) => server.of(client)?.destroyed === false).length
  return { open, heldBytes: kernelQueuedBytes(port) + server.buffered() }
}

function streamIdOf (eventId: string | undefined): string {
  const match = /^(\d+):\d+$/.exec(eventId ?? '')
  assert.ok(match !== null, `an event id <stream>:<number>, got ${String(eventId)}`)
  return match[1]
}

async function floodCall (session: RawSession, count: number, size: number, id: number): Promise<string> {
  const answer = await session.post(rpc('tools/call', { name: 'flood_then_wait', arguments: { count, size, key: '' }, _meta: { progressToken: id } }, id))
  assert.equal(answer.status, 200)
  assert.match(answer.headers.get('content-type') ?? '', /text\/event-stream/)
  return streamIdOf(/^id: (\S+)$/m.exec(answer.text)?.[1])
}

describe('resumed streams (finding 8)', () => {
  // A log of ~1 MiB on one stream, resumed from its start RESUMES times by clients that never read.
  const cases: Array<{ name: string, fill: (app: Awaited<ReturnType<typeof startApp>>, t: TestContext) => Promise<{ streamId: string, finish: () => void }> }> = [
    {
      name: 'a finished call',
      fill: async ({ session }) => ({ streamId: await floodCall(session, 96, 10_000, 1), finish: () => {} })
    },
    {
      name: 'a call still running',
      fill: async ({ session, mcpUrl }, t) => {
        const call = await postStream(t, mcpUrl, session.id,
          rpc('tools/call', { name: 'flood_then_wait', arguments: { count: 96, size: 10_000, key: 'resumed' }, _meta: { progressToken: 'r' } }, 2))
        const priming = await call.reader.next()
        call.disconnect()
        return { streamId: streamIdOf(priming?.id), finish: () => { gates.open('release:resumed') } }
      }
    },
    {
      name: 'the standalone stream',
      fill: async ({ session, notify }) => {
        const uri = `big://${'u'.repeat(8000)}`
        assert.equal((await session.post(rpc('resources/subscribe', { uri }))).status, 200)
        for (let i = 0; i < 120; i++) assert.equal(await notify(uri), 1)
        return { streamId: '0', finish: () => {} }
      }
    }
  ]

  for (const { name, fill } of cases) {
    test(`resuming ${name} again and again from a client that never reads holds one connection and one replay`, { timeout: 60_000 }, async (t) => {
      const app = await startApp(t)
      const { streamId, finish } = await fill(app, t)
      const clients: Socket[] = []
      for (let i = 0; i < RESUMES; i++) {
        clients.push(await resumeWithoutReading(t, app.baseUrl, app.server, app.session.id, `${streamId}:0`, AUTH_HEADER))
      }
      const { open, heldBytes } = leftOver(clients, app.server, app.port)
      const seen = `${open} of ${RESUMES} resumed connections open, ${(heldBytes / MiB).toFixed(1)} MiB waiting in socket buffers (log: 1 MiB)`
      assert.ok(open <= 1, seen)
      assert.ok(heldBytes < 2 * MiB, seen)

      // A client that reads gets the whole stream, and the session goes on.
      finish()
      const honest = await getStream(t, app.mcpUrl, app.session.id, `${streamId}:0`)
      assert.equal(honest.status, 200)
      if (streamId === '0') {
        assert.equal((await honest.reader.nextMessage())?.message.method, 'notifications/resources/updated')
        await honest.reader.cancel()
      } else {
        const events = await honest.reader.rest()
        assert.equal(events.length, 97)
        assert.equal(events.at(-1)?.message.result.content[0].text, 'sent 96')
      }
      assert.equal((await app.session.post(rpc('ping'))).status, 200)
    })
  }

  test('resuming every stream of a session again and again holds at most its log, one connection per stream', { timeout: 60_000 }, async (t) => {
    const app = await startApp(t)
    // Eight finished calls of ~100 KB each: ~800 KB kept in all.
    const streams: string[] = []
    for (let i = 0; i < 8; i++) streams.push(await floodCall(app.session, 10, 10_000, 10 + i))
    const clients: Socket[] = []
    for (let round = 0; round < RESUMES / streams.length; round++) {
      for (const streamId of streams) {
        clients.push(await resumeWithoutReading(t, app.baseUrl, app.server, app.session.id, `${streamId}:0`, AUTH_HEADER))
      }
    }
    const { open, heldBytes } = leftOver(clients, app.server, app.port)
    const seen = `${open} of ${clients.length} resumed connections open for ${streams.length} streams, ${(heldBytes / MiB).toFixed(1)} MiB waiting in socket buffers (log: ~0.8 MiB)`
    assert.ok(open <= streams.length, seen)
    assert.ok(heldBytes < 1.5 * MiB, seen)
    assert.equal((await app.session.post(rpc('ping'))).status, 200)
  })
})
