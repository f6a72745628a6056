import { test, describe, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { request as httpRequest } from 'node:http'
import Fastify, { type FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import mcpPlugin, { defineTool, type AnyTool, type McpPluginOptions } from '../../plugin/index.js'
import { add } from '../helpers/fixture-tools.js'
import { Gates } from '../helpers/stateful-tools.js'
import { AUTH_HEADER, TOKEN } from '../helpers/app.js'
import { MCP_HEADERS, rpc } from '../helpers/raw-http.js'
import { openSse, waitFor, type RawSseSession } from '../helpers/sse-client.js'
import { initializeSession } from '../helpers/stateful-http.js'
import { assertJsonRpcResponse, send, watchProcessFaults } from './support.js'

/** What the fault tools saw: when each call started, and why its signal fired. */
const gates = new Gates()
const aborts = new Map<string, string>()

const KeyInput = Type.Object({ key: Type.Optional(Type.String()) })
type Handler = Parameters<typeof defineTool<typeof KeyInput>>[0]['handler']

function tool (name: string, handler: Handler, timeoutMs?: number): AnyTool {
  return defineTool({ name, description: name, input: KeyInput, handler, timeoutMs })
}

const circular: Record<string, unknown> = {}
circular.self = circular

/** Tools that throw, each in its own way, and the text their tool error must carry. */
const THROWERS: Array<[AnyTool, RegExp]> = [
  [tool('throws_error', () => { throw new Error('disk on fire') }), /^disk on fire$/],
  [tool('rejects_error', async () => { throw new TypeError('bad type') }), /^bad type$/],
  // Tools may throw anything at all; these four throw what is not an Error on purpose.
  /* eslint-disable no-throw-literal */
  [tool('throws_string', () => { throw 'just words' as unknown as Error }), /^just words$/],
  [tool('throws_undefined', () => { throw undefined as unknown as Error }), /^undefined$/],
  [tool('throws_null_prototype', () => { throw Object.create(null) as Error }), /cannot be shown as text/],
  [tool('throws_hostile_tostring', () => { throw { toString () { throw new Error('no') } } as unknown as Error }), /cannot be shown as text/],
  /* eslint-enable no-throw-literal */
  [tool('throws_empty_error', () => { throw new Error('') }), /^Error$/]
]

/** Tools that return something a client could not use, and the problem their tool error must name. */
const MALFORMED: Array<[AnyTool, RegExp]> = [
  [tool('returns_unknown_content_type', () => ({ content: [{ type: 'hologram' }] })), /malformed result: content\[0\] has type "hologram"/],
  [tool('returns_null_content_item', () => ({ content: [null] })), /malformed result: content\[0\] is not an object/],
  [tool('returns_bigint_text', () => ({ content: [{ type: 'text', text: 10n }] })), /malformed result: content\[0\]\.text is not a string/],
  [tool('returns_bigint_inside', () => ({ content: [{ type: 'image', data: 'AA==', mimeType: 'image/png', _meta: { n: 1n } }] })), /cannot be sent as JSON/],
  [tool('returns_circular_content', () => ({ content: [{ type: 'text', text: 'x', loop: circular }] })), /cannot be sent as JSON \(Converting circular structure/],
  [tool('returns_circular_structured', () => circular), /cannot be sent as JSON: Converting circular structure/],
  [tool('returns_throwing_tojson', () => ({ content: [], toJSON () { throw new Error('toJSON exploded') } })), /cannot be sent as JSON \(toJSON exploded\)/],
  [tool('returns_throwing_getter', () => ({ get value () { throw new Error('getter exploded') } })), /cannot be sent as JSON: getter exploded/],
  [tool('returns_iserror_string', () => ({ content: [], isError: 'yes' })), /"isError" is not a boolean/]
]

/** Never settles; records why its signal fired. */
const hang = tool('hang', async (args, ctx) => await new Promise<never>(() => {
  gates.open(`started:${String(args.key)}`)
  ctx.signal.addEventListener('abort', () => { aborts.set(String(args.key), String(ctx.signal.reason)) }, { once: true })
}))

/** Ignores its signal and answers after 300 ms, long after its 50 ms timeout. */
const stubborn = tool('stubborn', async () => await new Promise((resolve) => setTimeout(() => { resolve('too late') }, 300)), 50)

/** Reports progress every 10 ms until its signal fires. */
const chatter = tool('chatter', async (args, ctx) => await new Promise<string>((resolve) => {
  gates.open(`started:${String(args.key)}`)
  const timer = setInterval(() => { ctx.progress(1) }, 10)
  ctx.signal.addEventListener('abort', () => {
    clearInterval(timer)
    aborts.set(String(args.key), String(ctx.signal.reason))
    resolve('stopped')
  }, { once: true })
}))

/** Waits for the test to open `release:<key>`, reporting progress first so that the answer becomes a stream. */
const gated = tool('gated', async (args, ctx) => {
  ctx.progress(1, 2)
  gates.open(`started:${String(args.key)}`)
  await gates.wait(`release:${String(args.key)}`)
  if (ctx.signal.aborted) aborts.set(String(args.key), String(ctx.signal.reason))
  return `released ${String(args.key)}`
})

const TOOLS: AnyTool[] = [add, hang, stubborn, chatter, gated, ...THROWERS.map(([t]) => t), ...MALFORMED.map(([t]) => t)]

interface InstrumentedApp {
  app: FastifyInstance
  baseUrl: string
  /** `write`/`end`/`writeHead` calls made on a response after its connection closed, as `METHOD url: call`. */
  deadWrites: string[]
}

/** The plugin in an app that records every write to a response whose connection has already closed. */
async function startInstrumentedApp (t: TestContext, options: Partial<McpPluginOptions> = {}): Promise<InstrumentedApp> {
  const deadWrites: string[] = []
  const app = Fastify({ logger: false, forceCloseConnections: true })
  app.addHook('onRequest', async (request, reply) => {
    const raw = reply.raw as unknown as Record<string, (...args: unknown[]) => unknown> & { once: (event: string, fn: () => void) => void }
    let closed = false
    raw.once('close', () => { closed = true })
    for (const name of ['write', 'end', 'writeHead']) {
      const original = raw[name]
      raw[name] = function (this: unknown, ...args: unknown[]) {
        if (closed) deadWrites.push(`${request.method} ${request.url}: ${name}`)
        return original.apply(this, args)
      }
    }
  })
  await app.register(mcpPlugin, { auth: { tokens: [TOKEN] }, tools: TOOLS, toolTimeoutMs: 200, ...options } as McpPluginOptions)
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.after(async () => { await app.close() })
  return { app, baseUrl: `http://127.0.0.1:${(app.server.address() as { port: number }).port}`, deadWrites }
}

const HEADERS = { ...MCP_HEADERS, ...AUTH_HEADER }

async function callTool (baseUrl: string, name: string, id: string | number = name, key?: string): Promise<any> {
  const response = await send(baseUrl, { path: '/mcp', headers: HEADERS, body: rpc('tools/call', { name, arguments: key === undefined ? {} : { key } }, id) })
  assert.equal(response.status, 200, `${name}: ${response.text}`)
  assertJsonRpcResponse(response.json, name)
  return response.json
}

/** Ten `add` calls that must all come back right while something else misbehaves. */
async function bystanders (baseUrl: string): Promise<void> {
  const sums = await Promise.all(Array.from({ length: 10 }, async (_, i) => {
    const response = await send(baseUrl, { path: '/mcp', headers: HEADERS, body: rpc('tools/call', { name: 'add', arguments: { a: i, b: 100 } }, i) })
    return response.json.result.structuredContent.sum as number
  }))
  assert.deepEqual(sums, Array.from({ length: 10 }, (_, i) => i + 100))
}

/** Reads SSE messages until every id in `ids` has been answered; fails on a second answer for any id. */
async function answersFor (session: RawSseSession, ids: string[]): Promise<Map<string, any>> {
  const answers = new Map<string, any>()
  while (answers.size < ids.length) {
    const message = await session.nextMessage()
    if (!('id' in message)) continue
    assertJsonRpcResponse(message, `answer ${String(message.id)}`)
    assert.ok(!answers.has(message.id), `a second answer for ${String(message.id)}`)
    answers.set(message.id, message)
  }
  return answers
}

describe('a faulty tool affects only its own call', () => {
  test('a tool that throws, in any way, gets a tool error with the message while concurrent calls succeed', async (t) => {
    const faults = watchProcessFaults(t)
    const { baseUrl } = await startInstrumentedApp(t)
    const [results] = await Promise.all([
      Promise.all(THROWERS.map(async ([thrower]) => await callTool(baseUrl, thrower.name))),
      bystanders(baseUrl)
    ])
    for (const [index, [thrower, message]] of THROWERS.entries()) {
      const result = results[index].result
      assert.equal(result?.isError, true, thrower.name)
      assert.match(result.content[0].text, message, thrower.name)
    }
    await bystanders(baseUrl)
    assert.deepEqual(faults, [])
  })

  test('a tool that returns something malformed gets a tool error naming the problem while concurrent calls succeed', async (t) => {
    const faults = watchProcessFaults(t)
    const { baseUrl } = await startInstrumentedApp(t)
    const [results] = await Promise.all([
      Promise.all(MALFORMED.map(async ([bad]) => await callTool(baseUrl, bad.name))),
      bystanders(baseUrl)
    ])
    for (const [index, [bad, message]] of MALFORMED.entries()) {
      const result = results[index].result
      assert.equal(result?.isError, true, bad.name)
      assert.match(result.content[0].text, message, bad.name)
    }
    assert.deepEqual(faults, [])
  })

  test('a tool that hangs is ended at toolTimeoutMs as a tool error and its signal fires, while concurrent calls succeed', async (t) => {
    const faults = watchProcessFaults(t)
    const { baseUrl } = await startInstrumentedApp(t, { toolTimeoutMs: 150 })
    const [answer] = await Promise.all([callTool(baseUrl, 'hang', 'h', 'hang-stateless'), bystanders(baseUrl)])
    assert.equal(answer.result.isError, true)
    assert.match(answer.result.content[0].text, /^Tool "hang" timed out after 150 ms$/)
    assert.match(aborts.get('hang-stateless') ?? '', /TimeoutError: Timed out after 150 ms/)
    assert.deepEqual(faults, [])
  })

  test('a tool\'s own timeoutMs wins over toolTimeoutMs, and its late result is dropped', async (t) => {
    const { baseUrl } = await startInstrumentedApp(t)
    const session = await openSse(t, baseUrl)
    assert.equal((await session.send(rpc('tools/call', { name: 'stubborn', arguments: {} }, 'late'))).status, 202)
    const answer = await session.nextMessage()
    assert.equal(answer.id, 'late')
    assert.match(answer.result.content[0].text, /timed out after 50 ms/)
    await new Promise((resolve) => setTimeout(resolve, 400))
    assert.equal((await session.send(rpc('ping', undefined, 'next'))).status, 202)
    assert.deepEqual(await session.nextMessage(), { jsonrpc: '2.0', id: 'next', result: {} }, 'no second answer for "late"')
  })

  test('over SSE, every faulty call answers its own id exactly once and the session keeps serving', async (t) => {
    const faults = watchProcessFaults(t)
    const { baseUrl } = await startInstrumentedApp(t, { toolTimeoutMs: 150 })
    const session = await openSse(t, baseUrl)
    const faulty = [...THROWERS, ...MALFORMED].map(([bad]) => bad.name)
    const ids = [...faulty, 'hang', ...Array.from({ length: 10 }, (_, i) => `add-${i}`)]
    await Promise.all([
      ...faulty.map(async (name) => await session.send(rpc('tools/call', { name, arguments: {} }, name))),
      session.send(rpc('tools/call', { name: 'hang', arguments: { key: 'hang-sse' } }, 'hang')),
      ...Array.from({ length: 10 }, async (_, i) => await session.send(rpc('tools/call', { name: 'add', arguments: { a: i, b: 1 } }, `add-${i}`)))
    ])
    const answers = await answersFor(session, ids)
    for (const name of [...faulty, 'hang']) assert.equal(answers.get(name)?.result?.isError, true, name)
    for (let i = 0; i < 10; i++) assert.deepEqual(answers.get(`add-${i}`)?.result.structuredContent, { sum: i + 1 })
    assert.equal((await session.send(rpc('ping', undefined, 'after'))).status, 202)
    assert.deepEqual(await session.nextMessage(), { jsonrpc: '2.0', id: 'after', result: {} })
    assert.deepEqual(faults, [])
  })
})

/** POSTs a tools/call on a raw connection and destroys it once the tool has started; resolves after the destroy. */
async function postThenDisconnect (baseUrl: string, name: string, key: string, extraHeaders: Record<string, string> = {}): Promise<void> {
  const outgoing = httpRequest(new URL('/mcp', baseUrl), { method: 'POST', headers: { ...HEADERS, ...extraHeaders }, agent: false })
  outgoing.on('error', () => {})
  outgoing.end(JSON.stringify(rpc('tools/call', { name, arguments: { key } }, key)))
  await gates.wait(`started:${key}`)
  outgoing.destroy()
}

describe('a client that disconnects mid-call', () => {
  test('stateless: the handler\'s signal fires, nothing is written to the dead socket, and concurrent calls are unaffected', async (t) => {
    const faults = watchProcessFaults(t)
    const { app, baseUrl, deadWrites } = await startInstrumentedApp(t, { toolTimeoutMs: 0 })
    await Promise.all([postThenDisconnect(baseUrl, 'hang', 'gone-json'), bystanders(baseUrl)])
    await waitFor('the signal to fire', () => aborts.has('gone-json'), 5000)
    assert.match(aborts.get('gone-json') ?? '', /The client closed the connection/)
    await waitFor('the call to leave', () => app.mcp.status().inFlight === 0, 5000)
    await bystanders(baseUrl)
    assert.deepEqual(deadWrites, [])
    assert.deepEqual(faults, [])
  })

  test('stateless, mid-stream: a call streaming progress stops, and neither progress nor keep-alives reach the dead socket', async (t) => {
    const { app, baseUrl, deadWrites } = await startInstrumentedApp(t, { toolTimeoutMs: 0, streamable: { keepAliveMs: 5 } })
    await postThenDisconnect(baseUrl, 'chatter', 'gone-stream')
    await waitFor('the signal to fire', () => aborts.has('gone-stream'), 5000)
    await waitFor('the call to leave', () => app.mcp.status().inFlight === 0, 5000)
    await new Promise((resolve) => setTimeout(resolve, 50))
    assert.deepEqual(deadWrites, [])
  })

  test('SSE: dropping the stream fires the signal of its running call, writes nothing more to it, and another session is unaffected', async (t) => {
    const faults = watchProcessFaults(t)
    const { app, baseUrl, deadWrites } = await startInstrumentedApp(t, { toolTimeoutMs: 0, sse: { keepAliveMs: 5 } })
    const leaving = await openSse(t, baseUrl)
    const staying = await openSse(t, baseUrl)
    await leaving.send(rpc('tools/call', { name: 'chatter', arguments: { key: 'gone-sse' } }, 'chatter'))
    await gates.wait('started:gone-sse')
    leaving.disconnect()
    await waitFor('the signal to fire', () => aborts.has('gone-sse'), 5000)
    assert.match(aborts.get('gone-sse') ?? '', /SSE client disconnected/)
    await waitFor('the session to be forgotten', () => app.mcp.status().sessions.sse === 1, 5000)
    assert.equal((await staying.send(rpc('tools/call', { name: 'add', arguments: { a: 1, b: 2 } }, 'still-here'))).status, 202)
    const answer = await staying.nextMessage()
    assert.deepEqual(answer.result.structuredContent, { sum: 3 })
    await new Promise((resolve) => setTimeout(resolve, 50))
    assert.deepEqual(deadWrites, [])
    assert.deepEqual(faults, [])
  })

  test('stateful: dropping a POST stream does not stop the call, and its result goes to the session, not to the dead socket', async (t) => {
    const { app, baseUrl, deadWrites } = await startInstrumentedApp(t, { toolTimeoutMs: 0, streamable: { sessions: true, keepAliveMs: 5 } })
    const session = await initializeSession(`${baseUrl}/mcp`)
    await postThenDisconnect(baseUrl, 'gated', 'gone-stateful', { 'mcp-session-id': session.id })
    await new Promise((resolve) => setTimeout(resolve, 30))
    gates.open('release:gone-stateful')
    await waitFor('the call to finish', () => app.mcp.status().inFlight === 0, 5000)
    assert.equal(aborts.has('gone-stateful'), false, 'the call was not aborted')
    const ping = await session.post(rpc('ping', undefined, 'after'))
    assert.deepEqual(ping.json, { jsonrpc: '2.0', id: 'after', result: {} })
    await new Promise((resolve) => setTimeout(resolve, 50))
    assert.deepEqual(deadWrites, [])
  })
})
