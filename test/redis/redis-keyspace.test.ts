import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRedisKeyspace, DEFAULT_KEY_PREFIX } from '../../plugin/redis/redis-keyspace.js'

test('keys and channels live under the prefix, mcp: by default', () => {
  assert.equal(DEFAULT_KEY_PREFIX, 'mcp:')
  const keys = createRedisKeyspace()
  assert.equal(keys.key('session', 'abc'), 'mcp:session:abc')
  assert.equal(keys.channel('session', 'abc'), 'mcp:session:abc')
  assert.equal(createRedisKeyspace('tenant-a/').key('x'), 'tenant-a/x')
})

test('a part cannot collide with another key by containing the separator', () => {
  const keys = createRedisKeyspace()
  assert.notEqual(keys.key('identity', 'a:b'), keys.key('identity', 'a', 'b'))
  assert.equal(keys.key('identity', 'a:b c'), 'mcp:identity:a%3Ab%20c')
})

test('an empty, spaced or over-long prefix, or a key without parts, is refused with a message', () => {
  for (const prefix of ['', 'has space', 'x'.repeat(65), 'tab\t', 'é']) {
    assert.throws(() => createRedisKeyspace(prefix), /Invalid Redis key prefix .*: use 1-64 printable ASCII characters/)
  }
  assert.throws(() => createRedisKeyspace().key(), /at least one part/)
})
