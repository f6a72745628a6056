import { Type } from 'typebox'
import { defineTool, type AnyTool } from '../../plugin/core.js'

/** Tools the tests call over every transport. */
export const add = defineTool({
  name: 'add',
  description: 'Adds two numbers',
  input: Type.Object({ a: Type.Number(), b: Type.Number() }),
  output: Type.Object({ sum: Type.Number() }),
  handler: ({ a, b }) => ({ sum: a + b })
})

export const echo = defineTool({
  name: 'echo',
  description: 'Returns its text',
  input: Type.Object({ text: Type.String(), times: Type.Integer({ minimum: 1, default: 1 }) }),
  handler: ({ text, times }) => text.repeat(times)
})

export const fail = defineTool({
  name: 'fail',
  description: 'Always throws',
  input: Type.Object({}),
  handler: () => { throw new Error('the database is unreachable') }
})

export const whoami = defineTool({
  name: 'whoami',
  description: 'Says who is calling, over which transport',
  input: Type.Object({}),
  handler: (_args, ctx) => ({ identity: ctx.auth?.id ?? null, transport: ctx.transport, sessionId: ctx.sessionId ?? null })
})

/** Reports progress twice, then answers; the tests count the notifications. */
export const countdown = defineTool({
  name: 'countdown',
  description: 'Reports progress, then finishes',
  input: Type.Object({ steps: Type.Integer({ minimum: 1, maximum: 10 }) }),
  handler: async ({ steps }, ctx) => {
    for (let step = 1; step <= steps; step++) {
      ctx.progress(step, steps, `step ${step}`)
      await new Promise((resolve) => setImmediate(resolve))
    }
    return `counted ${steps}`
  }
})

/** Waits until its signal fires (or `ms` passes), and records why it stopped. */
export const slowCalls: Array<{ aborted: boolean, reason: string }> = []
export const slow = defineTool({
  name: 'slow',
  description: 'Waits, honouring cancellation',
  input: Type.Object({ ms: Type.Integer({ minimum: 0 }) }),
  handler: async ({ ms }, ctx) => await new Promise<string>((resolve) => {
    const timer = setTimeout(() => {
      slowCalls.push({ aborted: false, reason: '' })
      resolve(`waited ${ms} ms`)
    }, ms)
    ctx.signal.addEventListener('abort', () => {
      clearTimeout(timer)
      slowCalls.push({ aborted: true, reason: String(ctx.signal.reason) })
      resolve('aborted')
    }, { once: true })
  })
})

/** Asks the user for a name through the client: a server request (2025 era) or an input-required round (2026). */
export const greet = defineTool({
  name: 'greet',
  description: 'Asks for a name, then greets',
  input: Type.Object({}),
  handler: async (_args, ctx) => {
    const answer = await ctx.elicit({
      mode: 'form',
      message: 'What is your name?',
      requestedSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] }
    }, { key: 'user_name' })
    return answer.action === 'accept' ? `Hello, ${String(answer.content?.name)}!` : `No name (${answer.action})`
  }
})

/** Two questions in two rounds: the second depends on the first answer. */
export const survey = defineTool({
  name: 'survey',
  description: 'Asks two questions, one after the other',
  input: Type.Object({}),
  handler: async (_args, ctx) => {
    const name = await ctx.elicit({ mode: 'form', message: 'Name?', requestedSchema: { type: 'object', properties: { name: { type: 'string' } } } }, { key: 'name' })
    const color = await ctx.elicit({ mode: 'form', message: `Favourite colour, ${String(name.content?.name)}?`, requestedSchema: { type: 'object', properties: { color: { type: 'string' } } } }, { key: 'color' })
    return `${String(name.content?.name)} likes ${String(color.content?.color)}`
  }
})
/** An argument that the 2026 era also carries in the Mcp-Param-Region header. */
export const route = defineTool({
  name: 'route',
  description: 'Names the region a request is routed to',
  input: Type.Object({ region: Type.String({ 'x-mcp-header': 'Region' }) }),
  handler: ({ region }) => `routed to ${region}`
})

export const fixtureTools: AnyTool[] = [add, echo, fail, whoami, countdown, slow, greet, survey, route]
