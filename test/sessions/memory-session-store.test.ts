import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createMemorySessionStore } from '../../plugin/sessions/memory-session-store.js'
import type { SessionCloseReason, StoredSession } from '../../plugin/sessions/session-store.js'
import { waitFor } from '../helpers/sse-client.js'

interface FakeSession extends StoredSession {
  closedWith: SessionCloseReason | undefined
}

function fakeSession (id: string, ownerId?: string): FakeSession {
  return {
    id,
    owner: ownerId === undefined ? undefined : { id: ownerId },
    quotaKey: ownerId === undefined ? 'address:127.0.0.1' : `identity:${ownerId}`,
    lastActivity: Date.now(),
    closedWith: undefined,
    close (reason) { this.closedWith = reason }
  }
}

const HOUR = 3_600_000

describe('memory session store', () => {
  test('add refuses a session past maxSessions and keeps the ones it has', (t) => {
    const store = createMemorySessionStore<FakeSession>({ maxSessions: 2, idleTimeoutMs: HOUR })
    t.after(store.stop)
    assert.equal(store.add(fakeSession('a')), true)
    assert.equal(store.add(fakeSession('b')), true)
    assert.equal(store.add(fakeSession('c')), false)
    assert.equal(store.size, 2)
    assert.equal(store.get('c', undefined), undefined)
    assert.equal(store.get('a', undefined)?.id, 'a')
  })

  test('get finds a session only for the identity that opened it', (t) => {
    const store = createMemorySessionStore<FakeSession>({ maxSessions: 5, idleTimeoutMs: HOUR })
    t.after(store.stop)
    store.add(fakeSession('alices', 'alice'))
    store.add(fakeSession('anonymous'))
    assert.equal(store.get('alices', { id: 'alice' })?.id, 'alices')
    assert.equal(store.get('alices', { id: 'bob' }), undefined)
    assert.equal(store.get('alices', null), undefined)
    assert.equal(store.get('anonymous', null)?.id, 'anonymous')
    assert.equal(store.get('anonymous', { id: 'alice' }), undefined)
  })

  test('countHeldBy counts each caller\'s sessions until they are deleted, pruned or closed', async (t) => {
    const store = createMemorySessionStore<FakeSession>({ maxSessions: 10, idleTimeoutMs: 40 })
    t.after(store.stop)
    store.add(fakeSession('a1', 'alice'))
    store.add(fakeSession('a2', 'alice'))
    store.add(fakeSession('b1', 'bob'))
    store.add(fakeSession('anonymous'))
    assert.deepEqual([store.countHeldBy('identity:alice'), store.countHeldBy('identity:bob'), store.countHeldBy('identity:carol')], [2, 1, 0])
    store.delete('a1')
    store.delete('a1')
    assert.equal(store.countHeldBy('identity:alice'), 1)
    await waitFor('the idle sessions to be pruned', () => store.size === 0)
    assert.deepEqual([store.countHeldBy('identity:alice'), store.countHeldBy('identity:bob')], [0, 0])
    store.add(fakeSession('b2', 'bob'))
    store.closeAll('shutdown')
    assert.equal(store.countHeldBy('identity:bob'), 0)
  })

  test('a session idle for idleTimeoutMs is closed as idle, forgotten and reported', async (t) => {
    const pruned: string[] = []
    const store = createMemorySessionStore<FakeSession>({ maxSessions: 5, idleTimeoutMs: 40, onPrune: (session) => { pruned.push(session.id) } })
    t.after(store.stop)
    const session = fakeSession('sleepy')
    store.add(session)
    await waitFor('the sweeper to prune the session', () => store.size === 0)
    assert.equal(session.closedWith, 'idle')
    assert.deepEqual(pruned, ['sleepy'])
  })

  test('touch keeps a session from being pruned', async (t) => {
    const store = createMemorySessionStore<FakeSession>({ maxSessions: 5, idleTimeoutMs: 500 })
    t.after(store.stop)
    const busy = fakeSession('busy')
    const idle = fakeSession('idle')
    store.add(busy)
    store.add(idle)
    const keepBusy = setInterval(() => { store.touch(busy) }, 20)
    t.after(() => { clearInterval(keepBusy) })
    await waitFor('the idle session to go', () => store.get('idle', undefined) === undefined, 2000)
    await new Promise((resolve) => setTimeout(resolve, 600))
    assert.equal(store.get('busy', undefined), busy)
    assert.equal(busy.closedWith, undefined)
  })

  test('delete forgets a session without closing it', (t) => {
    const store = createMemorySessionStore<FakeSession>({ maxSessions: 5, idleTimeoutMs: HOUR })
    t.after(store.stop)
    const session = fakeSession('gone')
    store.add(session)
    assert.equal(store.delete('gone'), true)
    assert.equal(store.delete('gone'), false)
    assert.equal(store.size, 0)
    assert.equal(session.closedWith, undefined)
  })

  test('closeAll closes every session with the reason and empties the store', (t) => {
    const store = createMemorySessionStore<FakeSession>({ maxSessions: 5, idleTimeoutMs: HOUR })
    t.after(store.stop)
    const sessions = ['a', 'b', 'c'].map((id) => fakeSession(id))
    for (const session of sessions) store.add(session)
    store.closeAll('shutdown')
    assert.equal(store.size, 0)
    assert.deepEqual(sessions.map((session) => session.closedWith), ['shutdown', 'shutdown', 'shutdown'])
  })

  test('the sweeper timer runs only while sessions exist, and closeAll clears it', (t) => {
    const started = t.mock.method(globalThis, 'setInterval')
    const cleared = t.mock.method(globalThis, 'clearInterval')
    const store = createMemorySessionStore<FakeSession>({ maxSessions: 5, idleTimeoutMs: HOUR })
    t.after(store.stop)
    assert.equal(started.mock.callCount(), 0)
    store.add(fakeSession('a'))
    store.add(fakeSession('b'))
    assert.equal(started.mock.callCount(), 1)
    const timer = started.mock.calls[0].result
    store.closeAll('shutdown')
    assert.deepEqual(cleared.mock.calls.map((call) => call.arguments[0]), [timer])
    store.add(fakeSession('c'))
    store.delete('c')
    assert.equal(started.mock.callCount(), 2)
    assert.equal(cleared.mock.callCount(), 2)
  })

  test('the sweeper timer does not keep the process alive', async () => {
    const storeUrl = new URL('../../plugin/sessions/memory-session-store.js', import.meta.url).href
    const script = `
      const { createMemorySessionStore } = await import(${JSON.stringify(storeUrl)})
      const store = createMemorySessionStore({ maxSessions: 5, idleTimeoutMs: 3600000 })
      store.add({ id: 'held', owner: undefined, lastActivity: Date.now(), close () {} })
    `
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'ignore' })
    const killer = setTimeout(() => { child.kill('SIGKILL') }, 10_000)
    const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => {
      child.once('exit', (exitCode, exitSignal) => { resolve([exitCode, exitSignal]) })
    })
    clearTimeout(killer)
    assert.deepEqual({ code, signal }, { code: 0, signal: null })
  })
})
