import { test } from 'node:test'
import assert from 'node:assert/strict'
import { endpointAddress, parseRedisUrl, RedisUrlError } from '../../plugin/redis/redis-url.js'

test('a redis:// URL gives host, port, ACL user, password and database', () => {
  assert.deepEqual(parseRedisUrl('redis://mcp:s%40cret@redis.internal:6380/4'), {
    host: 'redis.internal', port: 6380, username: 'mcp', password: 's@cret', db: 4, tls: false
  })
})

test('defaults: port 6379, database 0, no user or password; rediss:// means TLS', () => {
  assert.deepEqual(parseRedisUrl('redis://127.0.0.1'), { host: '127.0.0.1', port: 6379, username: undefined, password: undefined, db: 0, tls: false })
  assert.deepEqual(parseRedisUrl('rediss://:only-password@cache:6390/'), { host: 'cache', port: 6390, username: undefined, password: 'only-password', db: 0, tls: true })
})

test('an IPv6 host loses its brackets, and endpointAddress puts them back', () => {
  const endpoint = parseRedisUrl('redis://[::1]:7000')
  assert.equal(endpoint.host, '::1')
  assert.equal(endpointAddress(endpoint), '[::1]:7000')
  assert.equal(endpointAddress({ host: 'cache', port: 6379 }), 'cache:6379')
})

test('every bad Redis URL is refused with a message that says what is expected and never shows the password', () => {
  const secret = 'hunter2-secret'
  const cases: Array<[string, RegExp]> = [
    [`http://u:${secret}@host:6379`, /^Invalid Redis URL http:\/\/u:\*\*\*@host:6379\/: expected redis:\/\/\[user:password@\]host:port\/db or rediss:\/\//],
    [`redis://u:${secret}@host:6379/abc`, /the path must be a database number/],
    [`redis://u:${secret}@host:6379/1?tls=true`, /^Invalid Redis URL redis:\/\/u:\*\*\*@host:6379\/1…: query parameters and fragments are not supported/],
    [`redis://u:${secret}@host:6379/1#frag`, /query parameters and fragments are not supported/],
    [`not a url ${secret}`, /^Invalid Redis URL: expected redis:\/\//],
    [`redis://u:${secret}@host:6379/99999`, /database number/]
  ]
  for (const [url, message] of cases) {
    assert.throws(() => parseRedisUrl(url), (error: unknown) => {
      assert.ok(error instanceof RedisUrlError, url)
      assert.equal(error.code, 'MCP_ERR_REDIS_URL')
      assert.match(error.message, message)
      assert.ok(!error.message.includes(secret), `the message for ${url} shows the password: ${error.message}`)
      return true
    })
  }
})
