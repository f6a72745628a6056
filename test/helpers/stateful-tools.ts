import { Type } from 'typebox'
import { defineResource, defineTool, type AnyResource, type AnyTool } from '../../plugin/core.js'
import { fixtureTools } from './fixture-tools.js'

/** Named promises a test opens while a tool waits on them, so a test decides when a tool moves on. */
export class Gates {
  private readonly gates = new Map<string, { promise: Promise<string>, open: (value: string) => void }>()

  async wait (name: string): Promise<string> {
    return await this.gate(name).promise
  }

  open (name: string, value = ''): void {
    this.gate(name).open(value)
  }

  private gate (name: string): { promise: Promise<string>, open: (value: string) => void } {
    let gate = this.gates.get(name)
    if (gate === undefined) {
      let open!: (value: string) => void
      const promise = new Promise<string>((resolve) => { open = resolve })
      gate = { promise, open }
      this.gates.set(name, gate)
    }
    return gate
  }
}

export const gates = new Gates()

/** Reports progress 1, waits for the test to open `gate`, reports 2 and 3, then answers. */
export const phased = defineTool({
  name: 'phased',
  description: 'Progress in two phases with a gate between them',
  input: Type.Object({ gate: Type.String() }),
  handler: async ({ gate }, ctx) => {
    ctx.progress(1, 3, 'before the gate')
    await gates.wait(gate)
    ctx.progress(2, 3, 'after the gate')
    ctx.progress(3, 3, 'done')
    return `passed ${gate}`
  }
})

/** Runs until its signal fires, then opens the gate `aborted:<key>` with the abort reason. */
export const hold = defineTool({
  name: 'hold',
  description: 'Waits for its signal',
  input: Type.Object({ key: Type.String() }),
  handler: async ({ key }, ctx) => await new Promise<string>((resolve) => {
    gates.open(`started:${key}`)
    ctx.signal.addEventListener('abort', () => {
      gates.open(`aborted:${key}`, String(ctx.signal.reason))
      resolve('aborted')
    }, { once: true })
  })
})

/** Asks the user for a name through the client (`elicitation/create`). */
export const askName = defineTool({
  name: 'ask_name',
  description: 'Asks the user for their name',
  input: Type.Object({}),
  handler: async (_args, ctx) => {
    const answer = await ctx.elicit({
      message: 'What is your name?',
      requestedSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] }
    })
    return answer.action === 'accept' ? `hello ${String(answer.content?.name)}` : `no name (${answer.action})`
  }
})

/** Answers at once, then reports progress later; opens `late:<key>` with what the late report did. */
export const late = defineTool({
  name: 'late',
  description: 'Reports progress after answering',
  input: Type.Object({ key: Type.String() }),
  handler: ({ key }, ctx) => {
    setTimeout(() => {
      try {
        ctx.progress(1, 1, 'too late')
        gates.open(`late:${key}`, 'ignored')
      } catch (error) {
        gates.open(`late:${key}`, `threw ${String(error)}`)
      }
    }, 20)
    return 'answered'
  }
})

/**
 * Waits a little (so its answer stream opens with the priming event alone), then sends `count` progress
 * messages of about `size` bytes each, one per timer tick, then answers.
 */
export const flood = defineTool({
  name: 'flood',
  description: 'Sends large progress messages',
  input: Type.Object({ count: Type.Integer({ minimum: 1 }), size: Type.Integer({ minimum: 1 }) }),
  handler: async ({ count, size }, ctx) => {
    const filler = 'x'.repeat(size)
    await new Promise((resolve) => setTimeout(resolve, 50))
    for (let i = 1; i <= count; i++) {
      ctx.progress(i, count, filler)
      await new Promise((resolve) => setTimeout(resolve, 1))
    }
    return `sent ${count}`
  }
})

export const memo = defineResource({
  uri: 'memo://today',
  name: 'today',
  mimeType: 'text/plain',
  handler: () => 'buy milk'
})

export const statefulTools: AnyTool[] = [...fixtureTools, phased, hold, askName, late, flood]
export const statefulResources: AnyResource[] = [memo]
