import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { ConfigError, parseConfig } from '../../../server/config.js'
import { spawnServer } from '../../helpers/spawn-server.js'
import { connectStateful } from '../../helpers/stateful-sdk.js'

const TOKEN = 'stateful-server-token'

describe('node server in stateful mode', () => {
  test('--stateful and MCP_STATEFUL=1 turn sessions on; stateless is the default', () => {
    assert.equal(parseConfig([], {}).options.streamable.sessions, false)
    assert.equal(parseConfig(['--stateful'], {}).options.streamable.sessions, true)
    assert.equal(parseConfig([], { MCP_STATEFUL: '1' }).options.streamable.sessions, true)
    assert.equal(parseConfig(['--stateful'], { MCP_STATEFUL: '0' }).options.streamable.sessions, true)
  })

  test('the session cap and idle timeout come from the environment', () => {
    const config = parseConfig([], { MCP_STATEFUL_MAX_SESSIONS: '7', MCP_STATEFUL_IDLE_TIMEOUT_MS: '60000' })
    assert.deepEqual([config.options.streamable.maxSessions, config.options.streamable.idleTimeoutMs], [7, 60_000])
    assert.deepEqual([parseConfig([], {}).options.streamable.maxSessions, parseConfig([], {}).options.streamable.idleTimeoutMs], [100, 1_800_000])
  })

  test('bad stateful settings are refused with the variable\'s name', () => {
    assert.throws(() => parseConfig([], { MCP_STATEFUL: 'maybe' }), (error: Error) => error instanceof ConfigError && /MCP_STATEFUL must be 1 or 0/.test(error.message))
    assert.throws(() => parseConfig([], { MCP_STATEFUL_MAX_SESSIONS: '0' }), /MCP_STATEFUL_MAX_SESSIONS must be a whole number/)
  })

  test('node server --stateful issues session ids and counts them in its status tool', { timeout: 30_000 }, async (t) => {
    const server = await spawnServer(t, ['--stateful'], { MCP_TOKEN: TOKEN })
    const { client, transport } = await connectStateful(t, `${server.baseUrl}/mcp`, TOKEN)
    assert.match(transport.sessionId ?? '', /^[\x21-\x7e]+$/)
    const result = await client.callTool({ name: 'server_status', arguments: {} })
    assert.deepEqual((result.structuredContent as { sessions: unknown }).sessions, { sse: 0, streamableHttp: 1, listen: 0 })
  })
})
