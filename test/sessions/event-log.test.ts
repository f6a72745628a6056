import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { EventLog, type LoggedEvent } from '../../plugin/sessions/event-log.js'

function logWith (maxEvents: number, maxBytes: number): { log: EventLog<string>, dropped: Array<LoggedEvent<string>> } {
  const dropped: Array<LoggedEvent<string>> = []
  return { log: new EventLog<string>({ maxEvents, maxBytes }, (event) => { dropped.push(event) }), dropped }
}

describe('event log', () => {
  test('numbers events in one sequence across streams, priming reservations included', () => {
    const { log } = logWith(10, 1000)
    assert.equal(log.append('a', '"1"').seq, 1)
    assert.equal(log.reserve(), 2)
    assert.equal(log.append('b', '"3"').seq, 3)
    assert.equal(log.last, 3)
  })

  test('replays the kept events of one stream after a number, oldest first', () => {
    const { log } = logWith(10, 1000)
    for (const [stream, data] of [['a', '1'], ['b', '2'], ['a', '3'], ['a', '4'], ['b', '5']]) log.append(stream, data)
    assert.deepEqual(log.after('a', 1).map((event) => event.data), ['3', '4'])
    assert.deepEqual(log.after('b', 0).map((event) => event.data), ['2', '5'])
    assert.deepEqual(log.after('c', 0), [])
  })

  test('keeps at most maxEvents, dropping the oldest and reporting each', () => {
    const { log, dropped } = logWith(3, 1000)
    for (let i = 1; i <= 5; i++) log.append('a', String(i))
    assert.equal(log.size, 3)
    assert.deepEqual(dropped.map((event) => event.seq), [1, 2])
    assert.deepEqual(log.after('a', 0).map((event) => event.data), ['3', '4', '5'])
  })

  test('keeps at most maxBytes of data, counting UTF-8 bytes', () => {
    const { log, dropped } = logWith(100, 10)
    log.append('a', 'éé')
    log.append('a', '123456')
    assert.equal(log.bytes, 10)
    log.append('a', 'x')
    assert.deepEqual(dropped.map((event) => event.data), ['éé'])
    assert.equal(log.bytes, 7)
  })

  test('an event larger than maxBytes is numbered, reported and never kept', () => {
    const { log, dropped } = logWith(100, 4)
    log.append('a', 'ok')
    const big = log.append('a', 'too large')
    assert.equal(big.seq, 2)
    assert.deepEqual(dropped, [big])
    assert.deepEqual(log.after('a', 0).map((event) => event.data), ['ok'])
  })

  test('maxEvents 0 keeps nothing', () => {
    const { log, dropped } = logWith(0, 1000)
    log.append('a', '1')
    assert.equal(log.size, 0)
    assert.equal(dropped.length, 1)
  })

  test('stays within its limits over many appends', () => {
    const { log, dropped } = logWith(50, 10_000)
    for (let i = 0; i < 10_000; i++) log.append(i % 2 === 0 ? 'a' : 'b', `event ${i}`)
    assert.equal(log.size, 50)
    assert.equal(dropped.length, 9_950)
    assert.deepEqual(log.after('b', 0).map((event) => event.seq), Array.from({ length: 25 }, (_, i) => 9_952 + 2 * i))
  })

  test('clear forgets everything without reporting drops', () => {
    const { log, dropped } = logWith(10, 1000)
    log.append('a', '1')
    log.clear()
    assert.equal(log.size, 0)
    assert.equal(log.bytes, 0)
    assert.deepEqual(dropped, [])
  })
})
