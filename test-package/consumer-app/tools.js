// A tools module for the installed bin (--tools): it imports the package's core entry and typebox by name.
import { defineTool } from 'fastify-mcp-host/core'
import { Type } from 'typebox'

export default [
  defineTool({
    name: 'multiply',
    description: 'Multiplies two numbers',
    input: Type.Object({ a: Type.Number(), b: Type.Number() }),
    handler: ({ a, b }) => `${a * b}`
  })
]
