import Fastify from 'fastify'
import { expect, test } from 'tstyche'
import mcpPlugin, { mcpPlugin as named, type McpPluginOptions } from 'fastify-mcp-host'

const app = Fastify()

test('the plugin registers with its options, and the named export is the default one', () => {
  expect(app.register(mcpPlugin, { auth: false })).type.not.toRaiseError()
  expect(app.register(mcpPlugin, { auth: { tokens: ['a-token', { token: 'b-token', id: 'bob' }] }, sse: { maxSessions: 5 }, prefix: '/ai' })).type.not.toRaiseError()
  expect(app.register(mcpPlugin, { auth: { verify: async (token) => token === 'x' ? { id: 'x' } : null } })).type.not.toRaiseError()
  expect(named).type.toBe(mcpPlugin)
})

test('OAuth mode, alone or beside static tokens and a verify function', () => {
  expect(app.register(mcpPlugin, { auth: { oauth: { issuer: 'https://auth.example.com', resource: 'https://mcp.example.com/mcp' } } })).type.not.toRaiseError()
  expect(app.register(mcpPlugin, {
    auth: {
      tokens: [{ token: 'ci', id: 'ci-bot' }],
      verify: () => null,
      oauth: { issuer: 'https://a.example', resource: 'https://m.example', scopes: ['mcp:tools'], scopeImplications: { admin: ['deploy:write'] }, introspection: { clientId: 'x', clientSecret: 'y' } }
    }
  })).type.not.toRaiseError()
  expect(app.register(mcpPlugin, { auth: { oauth: { issuer: 'https://auth.example.com' } } })).type.toRaiseError()
  expect(app.register(mcpPlugin, { auth: {} })).type.toRaiseError()
})

test('a misspelled option fails to compile', () => {
  expect(app.register(mcpPlugin, { auth: false, toolTimeoutMS: 5 })).type.toRaiseError()
  expect(app.register(mcpPlugin, { auth: false, sse: { maxSession: 5 } })).type.toRaiseError()
})

test('auth is required and an option of the wrong type fails to compile', () => {
  expect(app.register(mcpPlugin, {})).type.toRaiseError()
  expect(app.register(mcpPlugin, { auth: true })).type.toRaiseError()
  expect(app.register(mcpPlugin, { auth: false, toolTimeoutMs: '5s' })).type.toRaiseError()
  expect(app.register(mcpPlugin, { auth: false, authFailureLogLevel: 'loud' })).type.toRaiseError()
})

test('every nested option is optional except auth', () => {
  expect<McpPluginOptions>().type.toBeAssignableFrom({ auth: false as const, streamable: { eventStore: { maxEvents: 10 } } })
  expect<McpPluginOptions>().type.not.toBeAssignableFrom({ streamable: {} })
})
