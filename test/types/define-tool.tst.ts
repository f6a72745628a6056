import { expect, test } from 'tstyche'
import { Type } from 'typebox'
import { defineTool, type HandlerContext, type ToolDefinition } from 'fastify-mcp-host'

const input = Type.Object({ city: Type.String(), days: Type.Optional(Type.Integer()) })
const output = Type.Object({ celsius: Type.Number() })

test('the handler\'s arguments are inferred from the input schema', () => {
  defineTool({
    name: 'weather',
    description: 'Weather for a city',
    input,
    handler: (args, ctx) => {
      expect(args).type.toBe<{ city: string, days?: number }>()
      expect(ctx).type.toBe<HandlerContext>()
      return `${args.city} in ${args.days ?? 1} days`
    }
  })
})

test('a handler that returns the output schema\'s shape compiles, sync or async', () => {
  expect(defineTool({ name: 'w', description: 'd', input, output, handler: () => ({ celsius: 21 }) })).type.toBe<ToolDefinition<typeof input, typeof output>>()
  expect(defineTool({ name: 'w', description: 'd', input, output, handler: async () => ({ celsius: 21 }) })).type.not.toRaiseError()
  expect(defineTool({ name: 'w', description: 'd', input, output, handler: () => 'text is always allowed' })).type.not.toRaiseError()
})

test('a handler that returns the wrong type for its output schema fails to compile', () => {
  expect(defineTool({ name: 'w', description: 'd', input, output, handler: () => ({ celsius: 'warm' }) })).type.toRaiseError()
  expect(defineTool({ name: 'w', description: 'd', input, output, handler: async () => 42 })).type.toRaiseError()
})

test('reading an argument the input schema lacks fails to compile', () => {
  expect(defineTool({ name: 'w', description: 'd', input, handler: (args) => args.country })).type.toRaiseError()
})

test('a tool without input or description fails to compile', () => {
  expect(defineTool({ name: 'w', description: 'd', handler: () => 'x' })).type.toRaiseError()
  expect(defineTool({ name: 'w', input, handler: () => 'x' })).type.toRaiseError()
})

test('scopes are a list of scope names', () => {
  expect(defineTool({ name: 'deploy', description: 'd', input, scopes: ['deploy:write'], handler: () => 'ok' })).type.not.toRaiseError()
  expect(defineTool({ name: 'deploy', description: 'd', input, scopes: 'deploy:write', handler: () => 'ok' })).type.toRaiseError()
})
