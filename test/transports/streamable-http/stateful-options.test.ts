import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import Fastify from 'fastify'
import mcpPlugin, { type McpPluginOptions } from '../../../plugin/index.js'
import { resolveOptions } from '../../../plugin/options.js'
import { startApp } from '../../helpers/app.js'

describe('streamable options', () => {
  test('sessions are off by default, with documented limits ready for when they are on', () => {
    assert.deepEqual(resolveOptions({ auth: false }).config.streamable, {
      sessions: false,
      maxSessions: 100,
      idleTimeoutMs: 1_800_000,
      keepAliveMs: 15_000,
      maxBufferedBytes: 4 * 1024 * 1024,
      maxInFlight: 32,
      evictIdleAfterMs: 60_000,
      maxListenStreams: 50,
      retryMs: 1000,
      eventStore: { maxEvents: 100, maxBytes: 1024 * 1024 }
    })
  })

  test('a partial eventStore keeps the other defaults, and the caller\'s object is not touched', () => {
    const options: McpPluginOptions = { auth: false, streamable: { sessions: true, eventStore: { maxEvents: 5 } } }
    const { streamable } = resolveOptions(options).config
    assert.deepEqual(streamable.eventStore, { maxEvents: 5, maxBytes: 1024 * 1024 })
    assert.deepEqual(options.streamable, { sessions: true, eventStore: { maxEvents: 5 } })
  })

  test('an invalid streamable option fails at register, naming its path', async () => {
    const app = Fastify()
    await assert.rejects((async () => {
      await app.register(mcpPlugin, { auth: false, streamable: { maxSessions: 0 } })
      await app.ready()
    })(), /\/streamable\/maxSessions must be >= 1/)
    await app.close()
  })

  test('in stateless mode the status has no stateful session count', async (t) => {
    const { app } = await startApp(t)
    assert.deepEqual(app.mcp.status().sessions, { sse: 0, listen: 0 })
  })
})
