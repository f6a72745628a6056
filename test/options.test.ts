import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import Fastify from 'fastify'
import mcpPlugin, { PACKAGE_VERSION, type McpPluginOptions } from '../plugin/index.js'
import { resolveOptions } from '../plugin/options.js'
import { fixtureTools } from './helpers/fixture-tools.js'

async function register (options: unknown): Promise<unknown> {
  const app = Fastify()
  try {
    await app.register(mcpPlugin, options as McpPluginOptions)
    await app.ready()
    return undefined
  } catch (error) {
    return error
  } finally {
    await app.close()
  }
}

describe('plugin options', () => {
  test('auth must be given explicitly', async () => {
    const error = await register({ tools: fixtureTools }) as { code: string, message: string }
    assert.equal(error.code, 'MCP_ERR_AUTH_REQUIRED')
    assert.match(error.message, /tokens: \["\.\.\."\]|or false to serve without auth/)
  })

  test('an empty token list is refused', async () => {
    const error = await register({ auth: { tokens: [] } }) as { message: string }
    assert.match(error.message, /auth\.tokens is empty/)
  })

  test('a wrong option type names its path', async () => {
    const error = await register({ auth: false, sse: { maxSessions: 0 } }) as { code: string, message: string }
    assert.equal(error.code, 'MCP_ERR_OPTIONS')
    assert.match(error.message, /\/sse\/maxSessions must be >= 1/)
  })

  test('allowedHosts and allowedOrigins refuse an empty list and entries that are not host names or origins', async () => {
    for (const [options, path] of [
      [{ allowedHosts: [] }, /\/allowedHosts must/],
      [{ allowedHosts: ['https://mcp.example.com'] }, /\/allowedHosts\/0 must match/],
      [{ allowedOrigins: [] }, /\/allowedOrigins must/],
      [{ allowedOrigins: ['app.example.com'] }, /\/allowedOrigins\/0 must match/],
      [{ allowedOrigins: ['https://app.example.com/path'] }, /\/allowedOrigins\/0 must match/]
    ] as const) {
      const error = await register({ auth: false, ...options }) as { code: string, message: string }
      assert.equal(error?.code, 'MCP_ERR_OPTIONS', JSON.stringify(options))
      assert.match(error.message, path)
    }
    assert.equal(await register({ auth: false, allowedHosts: ['mcp.example.com:8443', '[::1]:3100'], allowedOrigins: ['*', 'http://localhost:5173'] }), undefined)
  })

  test('a timeout longer than Node\'s timers can wait is refused', async () => {
    const error = await register({ auth: false, streamable: { idleTimeoutMs: 2 ** 31 } }) as { message: string }
    assert.match(error.message, /\/streamable\/idleTimeoutMs must be <= 2147483647/)
  })

  test('an unknown option is refused rather than ignored', async () => {
    const error = await register({ auth: false, maxSesions: 5 }) as { message: string }
    assert.match(error.message, /must not have additional properties/)
  })

  test('defaults are filled and the caller\'s object is not mutated', () => {
    const options = { auth: false as const, sse: { maxSessions: 7 } }
    const snapshot = structuredClone(options)
    const resolved = resolveOptions(options)
    assert.deepEqual(options, snapshot)
    assert.equal(resolved.config.sse.maxSessions, 7)
    assert.equal(resolved.config.sse.idleTimeoutMs, 30 * 60_000)
    assert.equal(resolved.config.sse.keepAliveMs, 15_000)
    assert.deepEqual(resolved.config.routes, { streamableHttp: true, sse: true, health: true })
  })

  test('route groups can be switched off', async (t) => {
    const app = Fastify()
    t.after(async () => { await app.close() })
    await app.register(mcpPlugin, { auth: false, routes: { sse: false, health: false } })
    assert.equal((await app.inject('/health')).statusCode, 404)
    assert.equal((await app.inject('/sse')).statusCode, 404)
    assert.equal((await app.inject({ method: 'GET', url: '/mcp' })).statusCode, 405)
  })

  test('the package version constant matches package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
    assert.equal(PACKAGE_VERSION, pkg.version)
  })
})
