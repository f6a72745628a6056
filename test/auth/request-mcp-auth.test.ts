import { test } from 'node:test'
import assert from 'node:assert/strict'
import Fastify from 'fastify'
import mcpPlugin, { type AuthIdentity } from '../../plugin/index.js'
import { AUTH_HEADER, TOKEN } from '../helpers/app.js'
import { post, rpc } from '../helpers/raw-http.js'

test('request.mcpAuth is the accepted caller on the MCP routes, null there without auth, and absent from the host app\'s own routes', async (t) => {
  for (const auth of [{ tokens: [{ token: TOKEN, id: 'alice' }] }, false] as const) {
    const seen = new Map<string, { has: boolean, value: AuthIdentity | null | undefined }>()
    const app = Fastify()
    app.addHook('onResponse', async (request) => {
      seen.set(request.routeOptions.url ?? '', { has: 'mcpAuth' in request, value: request.mcpAuth })
    })
    await app.register(mcpPlugin, { auth, tools: [] })
    app.get('/me', async () => 'me')
    await app.listen({ port: 0, host: '127.0.0.1' })
    t.after(async () => { await app.close() })
    const baseUrl = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`

    assert.equal((await post(`${baseUrl}/mcp`, rpc('ping'), AUTH_HEADER)).status, 200)
    assert.equal((await fetch(`${baseUrl}/me`, { headers: AUTH_HEADER })).status, 200)
    const expected = auth === false ? null : { id: 'alice' }
    assert.deepEqual(seen.get('/mcp')?.value === null ? null : { id: seen.get('/mcp')?.value?.id }, expected)
    assert.deepEqual(seen.get('/me'), { has: false, value: undefined }, 'the host route carries no mcpAuth, even with an MCP token')
  }
})
