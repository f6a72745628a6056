import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { Redis } from 'ioredis'
import { connectRedis, type RedisConnection, type RedisConnectionOptions } from '../../plugin/redis/redis-connection.js'
import { isRedisUnavailableError, RedisUnreachableError } from '../../plugin/redis/redis-errors.js'
import { waitFor } from '../server/support.js'
import { capturedLogger } from './support/captured-logger.js'
import { freePort } from './support/child-process.js'
import { startRedisServer, type RedisServer } from './support/redis-server.js'

const ACL = { username: 'mcp-host', password: 'p@ss: w0rd/with?odd chars' }

async function connect (t: TestContext, options: Omit<RedisConnectionOptions, 'logger'>): Promise<{ connection: RedisConnection, log: ReturnType<typeof capturedLogger> }> {
  const log = capturedLogger()
  const connection = await connectRedis({ ...options, logger: log.logger })
  t.after(async () => { await connection.close() })
  return { connection, log }
}

/** The server's CLIENT LIST as records, keyed by field name. */
async function clientList (redis: RedisServer): Promise<Array<Record<string, string>>> {
  const admin = await redis.client()
  const text = await admin.client('LIST') as string
  admin.disconnect()
  return text.trim().split('\n').map((line) => Object.fromEntries(line.split(' ').map((field) => {
    const at = field.indexOf('=')
    return [field.slice(0, at), field.slice(at + 1)]
  })))
}

async function ourConnections (redis: RedisServer, name = 'mcp-host'): Promise<Array<Record<string, string>>> {
  return (await clientList(redis)).filter((client) => client.name.startsWith(`${name}:`))
}

test('both connections log in with the ACL user and password of the URL and use its database', async (t) => {
  const redis = await startRedisServer(t, { acl: ACL })
  const { connection } = await connect(t, { url: `${redis.url}/3` })

  assert.equal(await connection.commands.set(connection.keys.key('probe'), 'yes'), 'OK')
  const clients = await ourConnections(redis)
  assert.deepEqual(clients.map((client) => client.name).sort(), ['mcp-host:commands', 'mcp-host:subscriber'])
  for (const client of clients) {
    assert.equal(client.user, ACL.username, `${client.name} logged in as the ACL user`)
    assert.equal(client.db, '3', `${client.name} uses the URL's database`)
  }
  const admin = await redis.client()
  await admin.select(3)
  assert.equal(await admin.get('mcp:probe'), 'yes', 'the key lives under the default prefix in database 3')
})

test('a wrong password fails the start-up check with one line that names host and port and not the password', async (t) => {
  const redis = await startRedisServer(t, { acl: ACL })
  const wrong = 'not-the-right-password'
  const error = await connectRedis({ url: `redis://${ACL.username}:${wrong}@127.0.0.1:${redis.port}`, logger: capturedLogger().logger })
    .then(() => assert.fail('connected with a wrong password'), (rejection: unknown) => rejection)
  assert.ok(error instanceof RedisUnreachableError)
  assert.equal(error.code, 'MCP_ERR_REDIS_UNREACHABLE')
  assert.match(error.message, new RegExp(`^Redis at 127\\.0\\.0\\.1:${redis.port} refused the login \\(.*WRONGPASS.*\\): check the user name and password`))
  assert.doesNotMatch(error.message, /\n/)
  assert.ok(!error.message.includes(wrong))
  assert.deepEqual(await ourConnections(redis), [], 'no connection left open')
})

test('an unreachable Redis fails the start-up check with one line that names host and port and not the password', async (t) => {
  const port = await freePort()
  const log = capturedLogger()
  const error = await connectRedis({ url: `redis://someone:${encodeURIComponent(ACL.password)}@127.0.0.1:${port}/2`, logger: log.logger })
    .then(() => assert.fail('connected to nothing'), (rejection: unknown) => rejection)
  assert.ok(error instanceof RedisUnreachableError)
  assert.equal(error.message, `Cannot reach Redis at 127.0.0.1:${port} (connect ECONNREFUSED 127.0.0.1:${port}): start it, or correct the Redis URL.`)
  assert.equal(error.address, `127.0.0.1:${port}`)
  assert.ok(!log.text().includes('w0rd'), 'nothing logged the password')
})

test('a hung Redis fails the start-up check instead of waiting forever', async (t) => {
  const redis = await startRedisServer(t)
  redis.pause()
  t.after(() => { redis.resume() })
  const error = await connectRedis({ url: redis.url, connectTimeoutMs: 300, commandTimeoutMs: 300, logger: capturedLogger().logger })
    .then(() => assert.fail('connected to a stopped Redis'), (rejection: unknown) => rejection)
  assert.ok(error instanceof RedisUnreachableError)
  assert.match(error.message, new RegExp(`^Cannot reach Redis at 127\\.0\\.0\\.1:${redis.port} \\(`))
})

test('rediss:// connects both connections over TLS, with the ACL user, given the CA', async (t) => {
  const redis = await startRedisServer(t, { tls: true, acl: ACL })
  assert.match(redis.url, /^rediss:\/\//)
  const { connection } = await connect(t, { url: redis.url, tls: { ca: redis.ca } })
  assert.equal(await connection.commands.ping(), 'PONG')
  const clients = await ourConnections(redis)
  assert.equal(clients.length, 2)
  for (const client of clients) assert.equal(client.user, ACL.username)

  const received: string[] = []
  await connection.subscribe(connection.keys.channel('tls'), (message) => { received.push(message) })
  assert.equal(await connection.publish(connection.keys.channel('tls'), 'over tls'), 1)
  await waitFor('the message over TLS', () => received.length > 0 ? true : undefined)
  assert.deepEqual(received, ['over tls'])
})

test('rediss:// to a server whose certificate is not trusted fails the start-up check', async (t) => {
  const redis = await startRedisServer(t, { tls: true })
  const error = await connectRedis({ url: redis.url, logger: capturedLogger().logger })
    .then(() => assert.fail('trusted a self-signed certificate'), (rejection: unknown) => rejection)
  assert.ok(error instanceof RedisUnreachableError)
  assert.match(error.message, new RegExp(`^Cannot reach Redis at 127\\.0\\.0\\.1:${redis.port} \\(.*certificate`))
})

test('a client the host application already has is duplicated with its user, password, database and TLS', async (t) => {
  const redis = await startRedisServer(t, { tls: true, acl: ACL })
  const hostClient = new Redis(`${redis.url}/5`, { tls: { ca: redis.ca }, keyPrefix: 'host-app:', connectionName: 'host-app' })
  t.after(() => { hostClient.disconnect() })
  await hostClient.set('own-key', '1')

  const { connection } = await connect(t, { client: hostClient, keyPrefix: 'mcp-test:' })
  await connection.commands.set(connection.keys.key('session', 'a'), 'x')
  const clients = await ourConnections(redis)
  assert.equal(clients.length, 2)
  for (const client of clients) assert.deepEqual([client.user, client.db], [ACL.username, '5'])

  const admin = await redis.client()
  await admin.select(5)
  assert.equal(await admin.get('mcp-test:session:a'), 'x', 'our keys carry our prefix only, not the host client\'s')
  await connection.close()
  assert.equal(await hostClient.get('own-key'), '1', 'the host application\'s client keeps working after ours close')
})

test('the connection state goes down and up once each when Redis stops and starts again, and commands fail fast meanwhile', async (t) => {
  const redis = await startRedisServer(t)
  const { connection, log } = await connect(t, { url: redis.url, reconnectMaxDelayMs: 200 })
  const transitions: string[] = []
  connection.onStateChange((state) => { transitions.push(state) })
  const received: string[] = []
  const channel = connection.keys.channel('session', 'kept')
  await connection.subscribe(channel, (message) => { received.push(message) })
  assert.equal(connection.state, 'up')

  await redis.stop('SIGKILL')
  await waitFor('the state to go down', () => connection.state === 'down' ? true : undefined)
  for (let attempt = 0; attempt < 5; attempt++) {
    await assert.rejects(connection.commands.get(connection.keys.key('any')), /enableOfflineQueue options is false/, 'a command while down fails at once, it is not queued')
    await assert.rejects(connection.publish(channel, 'lost'), /enableOfflineQueue options is false/)
    await assert.rejects(connection.subscribe(connection.keys.channel('new'), () => {}), /enableOfflineQueue options is false/)
    await new Promise((resolve) => setTimeout(resolve, 100)) // several reconnection attempts fail meanwhile
  }

  await redis.start()
  await waitFor('the state to come back up', () => connection.state === 'up' ? true : undefined)
  assert.equal(await connection.commands.set(connection.keys.key('after'), '1'), 'OK', 'commands work again without a restart')
  assert.equal(await connection.publish(channel, 'after restart'), 1, 'the subscription is back on the new Redis')
  await waitFor('the message after the restart', () => received.length > 0 ? true : undefined)
  assert.deepEqual(received, ['after restart'])
  assert.deepEqual(transitions, ['down', 'up'])

  const messages = log.lines().map((line) => line.msg)
  assert.equal(messages.filter((msg) => msg.startsWith('Redis connection lost')).length, 1, messages.join('\n'))
  assert.equal(messages.filter((msg) => msg === 'Redis connection restored').length, 1, messages.join('\n'))
  const lost = log.lines().find((line) => line.msg.startsWith('Redis connection lost'))
  assert.equal(lost?.redis, `127.0.0.1:${redis.port}`)
  assert.equal(lost?.level, 40, 'lost is a warning')
})

test('a Redis that hangs (SIGSTOP) fails commands after the command timeout, goes down, and comes back on SIGCONT', async (t) => {
  const redis = await startRedisServer(t)
  const { connection } = await connect(t, { url: redis.url, commandTimeoutMs: 300, reconnectMaxDelayMs: 200 })
  redis.pause()
  t.after(() => { redis.resume() })
  await assert.rejects(connection.commands.get(connection.keys.key('any')), /Command timed out/)
  await waitFor('the state to go down', () => connection.state === 'down' ? true : undefined)
  redis.resume()
  await waitFor('the state to come back up', () => connection.state === 'up' ? true : undefined)
  assert.equal(await connection.commands.ping(), 'PONG')
})

test('pub/sub between two processes\' connections: one subscriber connection carries every channel', async (t) => {
  const redis = await startRedisServer(t)
  const { connection: a } = await connect(t, { url: redis.url, connectionName: 'replica-a' })
  const { connection: b } = await connect(t, { url: redis.url, connectionName: 'replica-b' })

  const got: Array<[string, string, string]> = []
  const channels = Array.from({ length: 20 }, (_, index) => a.keys.channel('session', `s${index}`))
  for (const channel of channels) await a.subscribe(channel, (message, from) => { got.push(['first', from, message]) })
  const second = (message: string, from: string): void => { got.push(['second', from, message]) }
  await a.subscribe(channels[0], second)

  assert.equal(await b.publish(channels[0], 'hello'), 1, 'one subscriber connection received it, however many listeners')
  assert.equal(await b.publish(channels[7], 'seven'), 1)
  await waitFor('both messages', () => got.length === 3 ? true : undefined)
  assert.deepEqual(got.sort(), [['first', channels[0], 'hello'], ['first', channels[7], 'seven'], ['second', channels[0], 'hello']])
  assert.equal((await ourConnections(redis, 'replica-a')).length, 2, 'commands + one subscriber, not one per channel')

  await a.unsubscribe(channels[0], second)
  assert.equal(await b.publish(channels[0], 'still'), 1, 'a listener remains')
  await a.unsubscribe(channels[7], (): void => {})
  assert.equal(await b.publish(channels[7], 'other listener'), 1, 'removing a listener that was never added changes nothing')
  for (const channel of channels) {
    await a.unsubscribe(channel, (message, from) => { got.push(['first', from, message]) })
  }
  assert.equal(await b.publish(channels[3], 'x'), 1, 'a different function is a different listener')
  assert.equal(await b.publish(a.keys.channel('nobody'), 'x'), 0, 'PUBLISH counts 0 when no process holds the channel')
})

test('the last listener of a channel unsubscribes it, so PUBLISH counts 0 for a channel nobody holds', async (t) => {
  const redis = await startRedisServer(t)
  const { connection } = await connect(t, { url: redis.url })
  const channel = connection.keys.channel('session', 'gone')
  const first = (): void => {}
  const second = (): void => {}
  await connection.subscribe(channel, first)
  await connection.subscribe(channel, second)
  await connection.unsubscribe(channel, first)
  assert.equal(await connection.publish(channel, 'x'), 1)
  await connection.unsubscribe(channel, second)
  assert.equal(await connection.publish(channel, 'x'), 0)
  const admin = await redis.client()
  assert.deepEqual(await admin.pubsub('NUMSUB', channel), [channel, 0])
})

test('an error answer from Redis is told apart from Redis being unavailable', async (t) => {
  const redis = await startRedisServer(t)
  const { connection } = await connect(t, { url: redis.url })
  const key = connection.keys.key('text')
  await connection.commands.set(key, 'not a number')
  const answered = await connection.commands.incr(key).then(() => assert.fail('INCR of text succeeded'), (error: unknown) => error)
  assert.equal(isRedisUnavailableError(answered), false, 'Redis answered: a bug, not a 503')

  await redis.stop('SIGKILL')
  await waitFor('the state to go down', () => connection.state === 'down' ? true : undefined)
  const unavailable = await connection.commands.incr(key).then(() => assert.fail('INCR while down succeeded'), (error: unknown) => error)
  assert.equal(isRedisUnavailableError(unavailable), true, 'Redis is down: 503 and Retry-After')
  assert.equal(isRedisUnavailableError('not an error'), false)
})
