import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { createLifecycle } from '../plugin/lifecycle.js'

/** Whether a promise has settled by the time already-queued work has run. */
async function settledNow (promise: Promise<unknown>): Promise<boolean> {
  let settled = false
  promise.then(() => { settled = true }, () => { settled = true })
  await new Promise((resolve) => setImmediate(resolve))
  return settled
}

/** Awaits a promise that only an unref'd timer will settle: something must keep the event loop running meanwhile. */
async function keepingAlive<T> (promise: Promise<T>): Promise<T> {
  const alive = setInterval(() => {}, 1000)
  try {
    return await promise
  } finally {
    clearInterval(alive)
  }
}

describe('the lifecycle: requests in flight and draining', () => {
  test('a new lifecycle serves, with nothing in flight', () => {
    const lifecycle = createLifecycle()
    assert.equal(lifecycle.draining, false)
    assert.equal(lifecycle.inFlight, 0)
  })

  test('enter counts a request in, and its leave function counts it out once however often it is called', () => {
    const lifecycle = createLifecycle()
    const leaveA = lifecycle.enter()
    const leaveB = lifecycle.enter()
    assert.equal(lifecycle.inFlight, 2)
    leaveA()
    leaveA()
    assert.equal(lifecycle.inFlight, 1)
    leaveB()
    assert.equal(lifecycle.inFlight, 0)
  })

  test('beginDrain turns draining on, and requests still count in and out', () => {
    const lifecycle = createLifecycle()
    lifecycle.beginDrain()
    assert.equal(lifecycle.draining, true)
    const leave = lifecycle.enter()
    assert.equal(lifecycle.inFlight, 1)
    leave()
    assert.equal(lifecycle.inFlight, 0)
  })

  test('whenIdle resolves true at once when nothing is in flight', async () => {
    assert.equal(await createLifecycle().whenIdle(60_000), true)
  })

  test('whenIdle waits for the last request to leave, then resolves true', async () => {
    const lifecycle = createLifecycle()
    const leaveA = lifecycle.enter()
    const leaveB = lifecycle.enter()
    const idle = lifecycle.whenIdle(60_000)
    leaveA()
    assert.equal(await settledNow(idle), false, 'one request is still in flight')
    leaveB()
    assert.equal(await idle, true)
  })

  test('every caller waiting for idle is told', async () => {
    const lifecycle = createLifecycle()
    const leave = lifecycle.enter()
    const waiting = [lifecycle.whenIdle(60_000), lifecycle.whenIdle(60_000), lifecycle.whenIdle(60_000)]
    leave()
    assert.deepEqual(await Promise.all(waiting), [true, true, true])
  })

  test('whenIdle resolves false when its time runs out first; a longer wait still ends true when the request leaves', async () => {
    const lifecycle = createLifecycle()
    const leave = lifecycle.enter()
    const patient = lifecycle.whenIdle(60_000)
    assert.equal(await keepingAlive(lifecycle.whenIdle(5)), false)
    assert.equal(lifecycle.inFlight, 1)
    leave()
    assert.equal(await patient, true)
  })

  test('after becoming idle, a new request makes whenIdle wait again', async () => {
    const lifecycle = createLifecycle()
    lifecycle.enter()()
    const leave = lifecycle.enter()
    const idle = lifecycle.whenIdle(60_000)
    assert.equal(await settledNow(idle), false)
    leave()
    assert.equal(await idle, true)
  })

  test('a pending whenIdle does not keep the process alive (its timer is unref\'d)', async () => {
    const lifecycle = createLifecycle()
    const leave = lifecycle.enter()
    const timers = (): number => process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length
    const before = timers()
    const waiting = lifecycle.whenIdle(60_000)
    assert.equal(timers(), before)
    leave()
    assert.equal(await waiting, true)
  })

  test('endStreams calls every registered stream ender, in order, each time', () => {
    const lifecycle = createLifecycle()
    const calls: string[] = []
    lifecycle.onEndStreams(() => { calls.push('sse') })
    lifecycle.onEndStreams(() => { calls.push('stateful') })
    lifecycle.endStreams()
    assert.deepEqual(calls, ['sse', 'stateful'])
    lifecycle.endStreams()
    assert.deepEqual(calls, ['sse', 'stateful', 'sse', 'stateful'])
  })

  test('endStreams with nothing registered does nothing', () => {
    assert.doesNotThrow(() => { createLifecycle().endStreams() })
  })
})
