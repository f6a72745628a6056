import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import type { SessionEndReason, SessionSignal, SessionStateStore } from '../../plugin/sessions/session-state.js'

export interface StoreLimits {
  maxSessions?: number
  idleTimeoutMs?: number
  maxEvents?: number
  maxBytes?: number
}

/** Makes a fresh store (and a second view of the same sessions, for a shared store) for one test. */
export type StoreFactory = (t: TestContext, limits: StoreLimits) => Promise<{ store: SessionStateStore, peer: SessionStateStore }>

let counter = 0
const newId = (): string => `session-${process.pid}-${++counter}`

async function waitFor (what: string, check: () => boolean | Promise<boolean>, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!await check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/**
 * What every SessionStateStore promises the transports, as tests. The memory store runs them in `npm test`; the
 * Redis store in `npm run test:cluster`, where `peer` is a second replica's store on the same Redis.
 */
export function sessionStateContract (name: string, make: StoreFactory): void {
  const open = async (t: TestContext, limits: StoreLimits = {}): Promise<{ store: SessionStateStore, peer: SessionStateStore }> =>
    await make(t, { maxSessions: 10, idleTimeoutMs: 60_000, maxEvents: 100, maxBytes: 1024 * 1024, ...limits })

  test(`${name}: a session is loaded by its owner only, with what initialize and setLevel wrote`, async (t) => {
    const { store, peer } = await open(t)
    const id = newId()
    assert.equal(await store.create({ id, ownerId: 'alice', quotaKey: 'identity:alice' }), true)
    await store.update(id, { protocolVersion: '2025-11-25', clientInfo: { name: 'c', version: '1' } })
    await peer.update(id, { logLevel: 'warning' })
    assert.deepEqual(await peer.load(id, 'alice'), {
      id, ownerId: 'alice', quotaKey: 'identity:alice', protocolVersion: '2025-11-25', clientInfo: { name: 'c', version: '1' }, logLevel: 'warning'
    })
    assert.equal(await peer.load(id, 'mallory'), undefined)
    assert.equal(await peer.load(id, null), undefined)
    assert.equal(await store.load('no-such-session', 'alice'), undefined)
  })

  test(`${name}: sessions are capped at maxSessions, and counted per owner`, async (t) => {
    const { store, peer } = await open(t, { maxSessions: 2 })
    const [a, b, c] = [newId(), newId(), newId()]
    assert.equal(await store.create({ id: a, ownerId: 'alice', quotaKey: 'identity:alice' }), true)
    assert.equal(await peer.create({ id: b, ownerId: 'bob', quotaKey: 'identity:bob' }), true)
    assert.equal(await store.create({ id: c, ownerId: 'alice', quotaKey: 'identity:alice' }), false)
    assert.equal(await peer.count(), 2)
    assert.equal(await peer.countHeldBy('identity:alice'), 1)
    assert.equal(await store.end(a, 'deleted'), true)
    assert.equal(await store.end(a, 'deleted'), false)
    assert.equal(await peer.countHeldBy('identity:alice'), 0)
    assert.equal(await peer.create({ id: c, ownerId: 'alice', quotaKey: 'identity:alice' }), true)
  })

  test(`${name}: an ended session is heard by every store, and nothing can write to it again`, async (t) => {
    const { store, peer } = await open(t)
    const id = newId()
    const heard: Array<[string, SessionEndReason]> = []
    peer.onEnd((ended, reason) => { heard.push([ended, reason]) })
    await store.create({ id, ownerId: null, quotaKey: 'address:127.0.0.1' })
    await store.subscribe(id, 'memo://a', 10)
    assert.equal(await store.end(id, 'deleted'), true)
    await waitFor('the end to be heard', () => heard.some(([ended]) => ended === id))
    assert.deepEqual(heard.find(([ended]) => ended === id), [id, 'deleted'])
    assert.deepEqual(await peer.audience('memo://a'), [])
    await assert.rejects(store.append(id, '0', '{}', false))
    await assert.rejects(store.openStream(id, 'replica', 1))
    assert.equal(await store.load(id, null), undefined)
  })

  test(`${name}: an idle session ends by itself and is heard as idle`, async (t) => {
    const { store, peer } = await open(t, { idleTimeoutMs: 300 })
    const id = newId()
    const heard: SessionEndReason[] = []
    peer.onEnd((ended, reason) => { if (ended === id) heard.push(reason) })
    await store.create({ id, ownerId: null, quotaKey: 'address:127.0.0.1' })
    await waitFor('the idle end', () => heard.length > 0, 10_000)
    assert.deepEqual(heard, ['idle'])
    assert.equal(await peer.load(id, null), undefined)
  })

  test(`${name}: activity in any store keeps a session alive past the idle timeout`, async (t) => {
    const { store, peer } = await open(t, { idleTimeoutMs: 400 })
    const id = newId()
    await store.create({ id, ownerId: null, quotaKey: 'address:127.0.0.1' })
    for (let i = 0; i < 8; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      await (i % 2 === 0 ? peer : store).touch(id)
    }
    assert.notEqual(await store.load(id, null), undefined)
  })

  test(`${name}: subscriptions name their audience; list changes reach every session`, async (t) => {
    const { store, peer } = await open(t)
    const [a, b] = [newId(), newId()]
    await store.create({ id: a, ownerId: null, quotaKey: 'address:127.0.0.1' })
    await store.create({ id: b, ownerId: null, quotaKey: 'address:127.0.0.1' })
    await store.subscribe(a, 'memo://x', 10)
    await peer.subscribe(b, 'memo://x', 10)
    await peer.unsubscribe(b, 'memo://x')
    assert.deepEqual(await peer.audience('memo://x'), [a])
    assert.deepEqual((await peer.audience()).filter((id) => id === a || id === b).sort(), [a, b].sort())
  })

  test(`${name}: a session holds at most max subscriptions; subscribing again to one it holds is no new one`, async (t) => {
    const { store, peer } = await open(t)
    const id = newId()
    await store.create({ id, ownerId: null, quotaKey: 'address:127.0.0.1' })
    assert.equal(await store.subscribe(id, 'memo://1', 2), true)
    assert.equal(await peer.subscribe(id, 'memo://2', 2), true)
    assert.equal(await store.subscribe(id, 'memo://2', 2), true)
    assert.equal(await peer.subscribe(id, 'memo://3', 2), false)
    await store.unsubscribe(id, 'memo://1')
    assert.equal(await peer.subscribe(id, 'memo://3', 2), true)
    assert.deepEqual(await store.audience('memo://3'), [id])
  })

  test(`${name}: a capped caller's least recently used idle session can be evicted, never a busy one`, async (t) => {
    const { store, peer } = await open(t)
    const [old, streaming, holding, fresh] = [newId(), newId(), newId(), newId()]
    const heard: Array<[string, SessionEndReason]> = []
    peer.onEnd((id, reason) => { heard.push([id, reason]) })
    for (const id of [old, streaming, holding]) await store.create({ id, ownerId: 'alice', quotaKey: 'identity:alice' })
    await store.openStream(streaming, 'live-replica', 1)
    await store.claimStandalone(holding, 'live-replica/get')
    await new Promise((resolve) => setTimeout(resolve, 250))
    await store.create({ id: fresh, ownerId: 'alice', quotaKey: 'identity:alice' })
    assert.equal(await peer.evictIdle('identity:bob', 200), undefined)
    assert.equal(await peer.evictIdle('identity:alice', 200), old)
    assert.equal(await peer.evictIdle('identity:alice', 200), undefined, 'the others are busy or recent')
    assert.equal(await store.load(old, 'alice'), undefined)
    assert.equal(await peer.countHeldBy('identity:alice'), 3)
    await waitFor('the eviction to be heard', () => heard.some(([id]) => id === old))
    assert.deepEqual(heard.find(([id]) => id === old), [old, 'evicted'])
  })

  test(`${name}: events are numbered in one increasing sequence, replayed per stream, and heard by every tail`, async (t) => {
    const { store, peer } = await open(t)
    const id = newId()
    await store.create({ id, ownerId: null, quotaKey: 'address:127.0.0.1' })
    const heard: SessionSignal[] = []
    const stop = await peer.tail(id, (signal) => { heard.push(signal) })
    t.after(stop)
    const one = await store.openStream(id, 'replica-a', 7)
    const two = await peer.openStream(id, 'replica-b', 8)
    assert.notEqual(one, two)
    assert.deepEqual(await peer.status(id, one), { state: 'running', replica: 'replica-a', requestId: 7 })
    const first = await store.append(id, one, '{"n":1}', false)
    const second = await peer.append(id, two, '{"n":2}', false)
    const primed = await store.reserve(id)
    const third = await store.append(id, one, '{"n":3}', true)
    assert.ok(first.seq < second.seq && second.seq < primed && primed < third.seq, 'one increasing sequence')
    assert.deepEqual((await peer.replay(id, one, 0)).events.map((event) => [event.data, event.final]), [['{"n":1}', false], ['{"n":3}', true]])
    assert.deepEqual((await peer.replay(id, one, first.seq)).events.map((event) => event.data), ['{"n":3}'])
    assert.deepEqual(await store.status(id, one), { state: 'finished' })
    await waitFor('the tail to hear three events', () => heard.length >= 3)
    assert.deepEqual(heard.map((signal) => signal.type === 'event' ? signal.event.seq : -1), [first.seq, second.seq, third.seq])
  })

  test(`${name}: the log keeps its limits, reports what a stream lost, and lets finished streams go`, async (t) => {
    const { store, peer } = await open(t, { maxEvents: 2 })
    const id = newId()
    await store.create({ id, ownerId: null, quotaKey: 'address:127.0.0.1' })
    const stream = await store.openStream(id, 'replica', 1)
    for (let i = 1; i <= 3; i++) await store.append(id, stream, `{"n":${i}}`, i === 3)
    const replay = await peer.replay(id, stream, 0)
    assert.deepEqual(replay.events.map((event) => event.data), ['{"n":2}', '{"n":3}'])
    assert.equal(replay.gap, true)
    assert.equal((await peer.replay(id, stream, replay.events[0].seq)).gap, false)
    const other = await store.openStream(id, 'replica', 2)
    await store.append(id, other, '{"m":1}', false)
    await store.append(id, other, '{"m":2}', true)
    assert.deepEqual(await peer.status(id, stream), { state: 'released' })
    assert.deepEqual(await peer.status(id, '999'), { state: 'unknown' })
  })

  test(`${name}: a message larger than maxBytes is heard live but never kept`, async (t) => {
    const { store, peer } = await open(t, { maxBytes: 10 })
    const id = newId()
    await store.create({ id, ownerId: null, quotaKey: 'address:127.0.0.1' })
    const heard: SessionSignal[] = []
    t.after(await peer.tail(id, (signal) => { heard.push(signal) }))
    const stream = await store.openStream(id, 'replica', 1)
    await store.append(id, stream, `"${'x'.repeat(20)}"`, false)
    await waitFor('the live event', () => heard.length === 1)
    assert.deepEqual((await store.replay(id, stream, 0)).events, [])
    assert.equal((await store.replay(id, stream, 0)).gap, true)
  })

  test(`${name}: finishing a stream without a message, or as lost, is heard; a finished stream is not lost again`, async (t) => {
    const { store, peer } = await open(t)
    const id = newId()
    await store.create({ id, ownerId: null, quotaKey: 'address:127.0.0.1' })
    const heard: SessionSignal[] = []
    t.after(await peer.tail(id, (signal) => { heard.push(signal) }))
    const cancelled = await store.openStream(id, 'replica', 1)
    await store.finishStream(id, cancelled)
    const lost = await store.openStream(id, 'gone-replica', 2)
    await peer.finishLost(id, lost, '{"error":"lost"}')
    await peer.finishLost(id, lost, '{"error":"lost again"}')
    await waitFor('both endings', () => heard.length >= 2)
    assert.deepEqual(heard[0], { type: 'finished', streamId: cancelled })
    assert.equal(heard[1].type === 'event' && heard[1].event.final && heard[1].event.data, '{"error":"lost"}')
    assert.deepEqual((await store.replay(id, lost, 0)).events.map((event) => event.data), ['{"error":"lost"}'])
  })

  test(`${name}: the standalone stream has one holder; the first connection is told it is first; take-overs are heard`, async (t) => {
    const { store, peer } = await open(t)
    const id = newId()
    await store.create({ id, ownerId: null, quotaKey: 'address:127.0.0.1' })
    const heard: SessionSignal[] = []
    t.after(await store.tail(id, (signal) => { heard.push(signal) }))
    assert.deepEqual(await store.claimStandalone(id, 'live-replica/one'), { claimed: true, first: true })
    assert.deepEqual(await peer.claimStandalone(id, 'live-replica/two'), { claimed: false, first: false })
    await store.releaseStandalone(id, 'live-replica/two')
    assert.deepEqual(await peer.claimStandalone(id, 'live-replica/two'), { claimed: false, first: false })
    await store.releaseStandalone(id, 'live-replica/one')
    assert.deepEqual(await peer.claimStandalone(id, 'live-replica/two'), { claimed: true, first: false })
    await store.takeOver(id, '0', 'live-replica/three')
    await waitFor('the take-over', () => heard.length === 1)
    assert.deepEqual(heard, [{ type: 'takeover', streamId: '0', holder: 'live-replica/three' }])
  })
}
