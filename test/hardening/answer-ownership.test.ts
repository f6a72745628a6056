import { test, describe, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { HANG_GUARD } from '../helpers/scripted-client.js'
import type { McpPluginOptions } from '../../plugin/index.js'
import { MCP_HEADERS, post, rpc } from '../helpers/raw-http.js'
import { openSse, type RawSseSession } from '../helpers/sse-client.js'
import { initializeSession, openStream, postStream, type OpenStream, type RawSession } from '../helpers/stateful-http.js'
import { startServerToClientApp } from '../helpers/server-to-client-app.js'

/**
 * Issue 17, finding 6: a question the server asks a client (elicitation, sampling, roots) is answered only by the
 * client it was asked: the same identity in the same session, or, for a stateless call, the same identity without
 * a session. Its id is unguessable and names the process. Every test here has the rightful client answer last:
 * had an earlier, foreign answer settled the call, the result would carry the foreign name.
 */

const ALICE = 'alice-token-0123456789'
const ALICE_ROTATED = 'alice-token-rotated-0123456789'
const BOB = 'bob-token-0123456789'
const AUTH: McpPluginOptions['auth'] = { tokens: [{ token: ALICE, id: 'alice' }, { token: ALICE_ROTATED, id: 'alice' }, { token: BOB, id: 'bob' }] }
const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` })

/** A request id of ours: `<origin>.<16 base64url characters>`, the origin naming the process. */
const REQUEST_ID = /^([A-Za-z0-9_-]+)\.[A-Za-z0-9_-]{16}$/

const GREET = rpc('tools/call', { name: 'greet', arguments: {} }, 'greet')
const answer = (id: unknown, name: string): Record<string, unknown> => ({ jsonrpc: '2.0', id, result: { action: 'accept', content: { name } } })
const greeting = (name: string): unknown => [{ type: 'text', text: `Hello, ${name}!` }]

/** Ids a client could try from one it was sent: the neighbours of a counter, and the same origin with a counter. */
function guessesFrom (id: string): string[] {
  const counter = /^(.*)-(\d+)$/.exec(id)
  if (counter !== null) {
    const n = Number(counter[2])
    return [n + 1, n + 2, n + 3, n - 1].map((m) => `${counter[1]}-${m}`)
  }
  const origin = REQUEST_ID.exec(id)?.[1] ?? id
  return [`${origin}.1`, `${origin}.2`, `${origin}-1`, `${origin}-2`, id.slice(0, -1) + (id.endsWith('A') ? 'B' : 'A')]
}

describe('over legacy SSE, only the session that was asked can answer', () => {
  async function askOnSse (t: TestContext, auth: McpPluginOptions['auth'], token: string): Promise<{ baseUrl: string, asker: RawSseSession, id: string }> {
    const { baseUrl } = await startServerToClientApp(t, { auth })
    const asker = await openSse(t, baseUrl, bearer(token))
    assert.equal((await asker.send(GREET, bearer(token))).status, 202)
    const question = await asker.nextMessage()
    assert.equal(question.method, 'elicitation/create')
    return { baseUrl, asker, id: question.id }
  }

  test('another SSE session of the same identity posting the pending id does not settle it; the asking session\'s answer does', HANG_GUARD, async (t) => {
    const { baseUrl, asker, id } = await askOnSse(t, AUTH, ALICE)
    const sibling = await openSse(t, baseUrl, bearer(ALICE_ROTATED))
    assert.equal((await sibling.send(answer(id, 'Mallory'), bearer(ALICE_ROTATED))).status, 202)
    assert.equal((await asker.send(answer(id, 'Alice'), bearer(ALICE))).status, 202)
    assert.deepEqual((await asker.nextMessage()).result.content, greeting('Alice'))
  })

  test('another identity posting the pending id on its own session does not settle it', HANG_GUARD, async (t) => {
    const { baseUrl, asker, id } = await askOnSse(t, AUTH, ALICE)
    const intruder = await openSse(t, baseUrl, bearer(BOB))
    assert.equal((await intruder.send(answer(id, 'Bob'), bearer(BOB))).status, 202)
    await asker.send(answer(id, 'Alice'), bearer(ALICE))
    assert.deepEqual((await asker.nextMessage()).result.content, greeting('Alice'))
  })

  test('with auth off, another client\'s session posting the exact pending id does not settle it', HANG_GUARD, async (t) => {
    const { baseUrl, asker, id } = await askOnSse(t, false, ALICE)
    const stranger = await openSse(t, baseUrl, {})
    assert.equal((await stranger.send(answer(id, 'Mallory'), {})).status, 202)
    await asker.send(answer(id, 'Alice'), {})
    assert.deepEqual((await asker.nextMessage()).result.content, greeting('Alice'))
  })

  test('a response whose id nobody asked is ignored, and the session keeps serving', HANG_GUARD, async (t) => {
    const { asker, id } = await askOnSse(t, AUTH, ALICE)
    for (const guess of [...guessesFrom(id), 'unknown', 7]) {
      assert.equal((await asker.send(answer(guess, 'Guess'), bearer(ALICE))).status, 202, String(guess))
    }
    await asker.send(answer(id, 'Alice'), bearer(ALICE))
    assert.deepEqual((await asker.nextMessage()).result.content, greeting('Alice'))
  })
})

describe('over stateful Streamable HTTP, only the session that was asked can answer', () => {
  async function askInSession (t: TestContext): Promise<{ mcpUrl: string, asker: RawSession, stream: OpenStream, id: string }> {
    const { baseUrl } = await startServerToClientApp(t, { auth: AUTH, streamable: { sessions: true } })
    const mcpUrl = `${baseUrl}/mcp`
    const asker = await initializeSession(mcpUrl, bearer(ALICE))
    const stream = await postStream(t, mcpUrl, asker.id, GREET, bearer(ALICE))
    const question = (await stream.reader.nextMessage())?.message
    assert.equal(question.method, 'elicitation/create')
    return { mcpUrl, asker, stream, id: question.id }
  }

  test('another session of the same identity posting the pending id does not settle it; the asking session\'s answer does', HANG_GUARD, async (t) => {
    const { mcpUrl, asker, stream, id } = await askInSession(t)
    const sibling = await initializeSession(mcpUrl, bearer(ALICE_ROTATED))
    assert.equal((await sibling.post(answer(id, 'Mallory'))).status, 202)
    assert.equal((await asker.post(answer(id, 'Alice'))).status, 202)
    assert.deepEqual((await stream.reader.nextMessage())?.message.result.content, greeting('Alice'))
  })

  test('another identity posting the pending id in its own session does not settle it', HANG_GUARD, async (t) => {
    const { mcpUrl, asker, stream, id } = await askInSession(t)
    const intruder = await initializeSession(mcpUrl, bearer(BOB))
    assert.equal((await intruder.post(answer(id, 'Bob'))).status, 202)
    await asker.post(answer(id, 'Alice'))
    assert.deepEqual((await stream.reader.nextMessage())?.message.result.content, greeting('Alice'))
  })
})

describe('over stateless Streamable HTTP, only the identity that was asked can answer', () => {
  async function askStateless (t: TestContext, auth: McpPluginOptions['auth'], token?: string): Promise<{ mcpUrl: string, stream: OpenStream, id: string }> {
    const { baseUrl } = await startServerToClientApp(t, { auth })
    const mcpUrl = `${baseUrl}/mcp`
    const headers = token === undefined ? {} : bearer(token)
    const stream = await openStream(t, mcpUrl, { method: 'POST', headers: { ...MCP_HEADERS, ...headers }, body: JSON.stringify(GREET) })
    const question = (await stream.reader.nextMessage())?.message
    assert.equal(question.method, 'elicitation/create')
    return { mcpUrl, stream, id: question.id }
  }

  test('another identity posting the pending id does not settle it; the asker\'s answer does', HANG_GUARD, async (t) => {
    const { mcpUrl, stream, id } = await askStateless(t, AUTH, ALICE)
    assert.equal((await post(mcpUrl, answer(id, 'Bob'), bearer(BOB))).status, 202)
    assert.equal((await post(mcpUrl, answer(id, 'Alice'), bearer(ALICE_ROTATED))).status, 202)
    assert.deepEqual((await stream.reader.nextMessage())?.message.result.content, greeting('Alice'))
  })

  test('with auth off, an id guessed from one\'s own question does not settle another caller\'s', HANG_GUARD, async (t) => {
    const { mcpUrl, stream: victim, id: victimId } = await askStateless(t, false)
    const attacker = await openStream(t, mcpUrl, { method: 'POST', headers: MCP_HEADERS, body: JSON.stringify(GREET) })
    const ownId = (await attacker.reader.nextMessage())?.message.id as string
    for (const guess of guessesFrom(ownId)) {
      assert.equal((await post(mcpUrl, answer(guess, 'Mallory'))).status, 202)
    }
    assert.equal((await post(mcpUrl, answer(victimId, 'Victor'))).status, 202)
    assert.deepEqual((await victim.reader.nextMessage())?.message.result.content, greeting('Victor'))
    attacker.disconnect()
  })
})

describe('server request ids', () => {
  test('are unguessable and name the process: one origin per app, 96 random bits each', HANG_GUARD, async (t) => {
    const ids: string[] = []
    for (const app of [1, 2]) {
      const { baseUrl } = await startServerToClientApp(t, { auth: false })
      for (const call of [1, 2]) {
        const session = await openSse(t, baseUrl, {})
        await session.send(rpc('tools/call', { name: 'greet', arguments: {} }, `${app}-${call}`), {})
        ids.push((await session.nextMessage()).id)
      }
    }
    const parts = ids.map((id) => REQUEST_ID.exec(id))
    for (const [index, match] of parts.entries()) assert.ok(match !== null, `${ids[index]} is <origin>.<random>`)
    const origins = parts.map((match) => match?.[1])
    assert.equal(origins[0], origins[1], 'one app names itself the same way in every id')
    assert.equal(origins[2], origins[3])
    assert.notEqual(origins[0], origins[2], 'two apps have different origins')
    assert.equal(new Set(ids).size, 4)
  })
})
