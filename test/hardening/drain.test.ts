import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { request as httpRequest } from 'node:http'
import Fastify from 'fastify'
import mcpPlugin from '../../plugin/index.js'
import { AUTH_HEADER, TOKEN } from '../helpers/app.js'
import { MCP_HEADERS, rpc } from '../helpers/raw-http.js'
import { spawnServer } from '../helpers/spawn-server.js'
import { openSse } from '../helpers/sse-client.js'
import { SseReader } from '../helpers/sse-reader.js'
import { gates, statefulTools } from '../helpers/stateful-tools.js'
import { closed, exitWithin, TOOLS_FIXTURE, waitFor } from '../server/support.js'
import { send, trickleBody } from './support.js'

/** Opens a GET stream (or POSTs and reads the answer as a stream) on a connection of its own, as a fetch Response. */
async function openRawStream (url: string, method: 'GET' | 'POST', headers: Record<string, string>, body?: unknown): Promise<{ reader: SseReader, destroy: () => void }> {
  return await new Promise((resolve, reject) => {
    const outgoing = httpRequest(url, { method, headers, agent: false }, (incoming) => {
      if (incoming.statusCode !== 200) {
        reject(new Error(`${method} ${url} answered ${String(incoming.statusCode)}`))
        return
      }
      const chunks = new ReadableStream<Uint8Array>({
        start (controller) {
          incoming.on('data', (chunk: Buffer) => { controller.enqueue(new Uint8Array(chunk)) })
          incoming.on('end', () => { controller.close() })
          incoming.on('error', (error) => { controller.error(error) })
          incoming.on('aborted', () => { controller.error(new Error('the connection was cut, not ended')) })
        }
      })
      resolve({ reader: new SseReader(new Response(chunks)), destroy: () => { outgoing.destroy() } })
    })
    outgoing.on('error', reject)
    outgoing.end(body === undefined ? undefined : JSON.stringify(body))
  })
}

/** Reads a stream to its end; resolves true when the server ended it cleanly, false when the connection was cut. */
async function endsCleanly (reader: SseReader): Promise<boolean> {
  try {
    while (await reader.next() !== undefined) { /* skip events and comments */ }
    return true
  } catch {
    return false
  }
}

/** Active handles and requests by type (what keeps the event loop alive), minus the ones the runner itself holds. */
function activeResources (): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1
  return counts
}

describe('drain on deploy', () => {
  test('on SIGTERM, node server ends open SSE and stateful streams cleanly and exits 0', { timeout: 30_000 }, async (t) => {
    const server = await spawnServer(t, ['--stateful', '--tools', TOOLS_FIXTURE], { MCP_TOKEN: TOKEN, MCP_SHUTDOWN_GRACE_MS: '2000' })
    const auth = { authorization: `Bearer ${TOKEN}` }
    const sse = await openSse(t, server.baseUrl, auth)
    const start = await send(server.baseUrl, { path: '/mcp', headers: { ...MCP_HEADERS, ...auth }, body: rpc('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'drain', version: '1' } }) })
    const sessionId = String(start.headers['mcp-session-id'])
    const standalone = await openRawStream(`${server.baseUrl}/mcp`, 'GET', { ...auth, accept: 'text/event-stream', 'mcp-session-id': sessionId })
    t.after(standalone.destroy)
    await standalone.reader.next()

    server.child.kill('SIGTERM')
    const [sseEnded, standaloneEnded, code] = await Promise.all([
      endsCleanly(sse.reader), endsCleanly(standalone.reader), exitWithin(closed(server.child), 10_000)
    ])
    assert.equal(sseEnded, true, 'the SSE stream was ended, not cut')
    assert.equal(standaloneEnded, true, 'the stateful GET stream was ended, not cut')
    assert.equal(code, 0)
  })

  test('on SIGTERM, a connection whose body is still coming holds no call: it is closed at once, the call in flight finishes, and the process exits 0', { timeout: 30_000 }, async (t) => {
    const server = await spawnServer(t, ['--tools', TOOLS_FIXTURE], { MCP_TOKEN: TOKEN, MCP_SHUTDOWN_GRACE_MS: '4000' })
    const auth = { authorization: `Bearer ${TOKEN}` }
    const events: string[] = []
    const call = send(server.baseUrl, { path: '/mcp', headers: { ...MCP_HEADERS, ...auth }, body: rpc('tools/call', { name: 'slow', arguments: { ms: 1500 } }, 'slow') })
      .then((response) => { events.push('call answered'); return response })
    const slowBody = trickleBody(server.baseUrl, ['Content-Type: application/json', 'Accept: application/json, text/event-stream', `Authorization: Bearer ${TOKEN}`], 200, 20_000)
      .then((outcome) => { events.push('slow body closed'); return outcome })
    await waitFor('the call in flight', async () => (await send(server.baseUrl, { method: 'GET', path: '/health' })).json.inFlight === 1 ? true : undefined)
    await new Promise((resolve) => setTimeout(resolve, 300))

    server.child.kill('SIGTERM')
    const [answered, , code] = await Promise.all([call, slowBody, exitWithin(closed(server.child), 15_000)])
    assert.deepEqual(events, ['slow body closed', 'call answered'], 'the slow body was let go before the call in flight ended')
    assert.deepEqual(answered.json.result.content, [{ type: 'text', text: 'waited 1500 ms' }])
    assert.equal(code, 0)
    assert.doesNotMatch(server.stdout(), /Shutdown did not finish in time/)
  })

  test('on SIGTERM with only a slow-body connection open, node server exits 0 without waiting out the grace period', { timeout: 30_000 }, async (t) => {
    const server = await spawnServer(t, [], { MCP_TOKEN: TOKEN, MCP_SHUTDOWN_GRACE_MS: '1000' })
    const slowBody = trickleBody(server.baseUrl, ['Content-Type: application/json', 'Accept: application/json, text/event-stream', `Authorization: Bearer ${TOKEN}`], 200, 20_000)
    await new Promise((resolve) => setTimeout(resolve, 300))
    server.child.kill('SIGTERM')
    const [, code] = await Promise.all([slowBody, exitWithin(closed(server.child), 15_000)])
    assert.equal(code, 0)
    assert.doesNotMatch(server.stdout(), /Shutdown did not finish in time/)
  })

  test('the plugin alone: app.close() resolves promptly with streams and a call open, and leaves no socket, server or timer running', async (t) => {
    const before = activeResources()
    const app = Fastify({ logger: false })
    await app.register(mcpPlugin, { auth: { tokens: [TOKEN] }, tools: statefulTools, streamable: { sessions: true, keepAliveMs: 20 }, sse: { keepAliveMs: 20 } })
    await app.listen({ port: 0, host: '127.0.0.1' })
    let open = true
    t.after(async () => { if (open) await app.close() })
    const baseUrl = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`

    const sse = await openSse(t, baseUrl)
    const start = await send(baseUrl, { path: '/mcp', headers: { ...MCP_HEADERS, ...AUTH_HEADER }, body: rpc('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'close', version: '1' } }) })
    const sessionId = String(start.headers['mcp-session-id'])
    const session = { ...AUTH_HEADER, 'mcp-session-id': sessionId }
    const standalone = await openRawStream(`${baseUrl}/mcp`, 'GET', { ...session, accept: 'text/event-stream' })
    const call = await openRawStream(`${baseUrl}/mcp`, 'POST', { ...MCP_HEADERS, ...session }, rpc('tools/call', { name: 'hold', arguments: { key: 'close' } }, 'held'))
    await gates.wait('started:close')
    assert.deepEqual(app.mcp.status().sessions, { sse: 1, streamableHttp: 1, listen: 0 })

    const closing = Date.now()
    await app.close()
    open = false
    const elapsed = Date.now() - closing
    assert.ok(elapsed < 2_000, `app.close() took ${elapsed} ms`)
    assert.match(await gates.wait('aborted:close'), /shutdown/, 'the call in flight saw its signal fire')
    const ended = await Promise.all([endsCleanly(sse.reader), endsCleanly(standalone.reader), endsCleanly(call.reader)])
    assert.deepEqual(ended, [true, true, true], 'every stream was ended cleanly')
    assert.deepEqual(app.mcp.status().sessions, { sse: 0, streamableHttp: 0, listen: 0 })

    // Client sockets close a moment after the server's side; give them that moment, then count.
    const deadline = Date.now() + 2_000
    let after = activeResources()
    while (Date.now() < deadline && JSON.stringify(after) !== JSON.stringify(before)) {
      await new Promise((resolve) => setTimeout(resolve, 20))
      after = activeResources()
    }
    t.diagnostic(`app.close() took ${elapsed} ms; active resources before ${JSON.stringify(before)}, after ${JSON.stringify(after)}`)
    for (const type of ['TCPServerWrap', 'TCPSocketWrap', 'Timeout']) {
      assert.ok((after[type] ?? 0) <= (before[type] ?? 0), `${type}: ${after[type] ?? 0} after, ${before[type] ?? 0} before`)
    }
  })
})
