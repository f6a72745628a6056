import { Type } from 'typebox'
import { defineResource, defineTool, type AnyResource, type AnyTool } from '../../plugin/core.js'
import { countdown, greet } from './fixture-tools.js'

/**
 * Tools that use every server-to-client feature of the handler context, for the end-to-end tests of each
 * transport. Also a `--tools` module (default export), so a spawned `node server --transport stdio` serves them.
 */

/** Asks the client's model to summarise `text` (`sampling/createMessage`) and says what it answered. */
export const summarize = defineTool({
  name: 'summarize',
  description: 'Asks the client\'s model for a summary',
  input: Type.Object({ text: Type.String() }),
  handler: async ({ text }, ctx) => {
    const answer = await ctx.sample({
      messages: [{ role: 'user', content: { type: 'text', text: `Summarize: ${text}` } }],
      maxTokens: 64
    }, { key: 'summary' })
    const content = answer.content as { type: string, text?: string }
    return `${answer.model} said: ${String(content.text)}`
  }
})

/** Asks the client for its roots (`roots/list`) and lists their URIs. */
export const listRoots = defineTool({
  name: 'list_roots',
  description: 'Lists the client\'s roots',
  input: Type.Object({}),
  handler: async (_args, ctx) => {
    const { roots } = await ctx.listRoots({ key: 'roots' })
    return roots.map((root) => root.uri).join(' ')
  }
})

/** Three questions to the client at once: one round trip in the 2026 era, three concurrent requests in 2025. */
export const gather = defineTool({
  name: 'gather',
  description: 'Asks the user, the model and the client\'s roots at once',
  input: Type.Object({}),
  handler: async (_args, ctx) => {
    const answers = await ctx.requestInputs({
      name: { method: 'elicitation/create', params: { mode: 'form', message: 'Name?', requestedSchema: { type: 'object', properties: { name: { type: 'string' } } } } },
      model: { method: 'sampling/createMessage', params: { messages: [{ role: 'user', content: { type: 'text', text: 'Summarize: all' } }], maxTokens: 8 } },
      roots: { method: 'roots/list', params: {} }
    })
    const name = (answers.name.content as { name?: string } | undefined)?.name
    const said = (answers.model.content as { text?: string }).text
    const roots = (answers.roots.roots as Array<{ uri: string }>).length
    return `${String(name)} / ${String(said)} / ${roots} roots`
  }
})

export const LOG_LEVELS = ['debug', 'info', 'warning', 'error'] as const

/** Sends one log message to the client at each of debug, info, warning and error, then answers. */
export const chatter = defineTool({
  name: 'chatter',
  description: 'Sends log messages to the client',
  input: Type.Object({}),
  handler: (_args, ctx) => {
    for (const level of LOG_LEVELS) ctx.sendLog(level, `a ${level} message`, 'chatter')
    return 'chattered'
  }
})

/** Tells subscribed clients that `uri` changed, from inside a call. */
export const touch = defineTool({
  name: 'touch',
  description: 'Reports a resource as updated',
  input: Type.Object({ uri: Type.String() }),
  handler: ({ uri }, ctx) => {
    ctx.notifyResourceUpdated(uri)
    return `touched ${uri}`
  }
})

/** Tells listening clients that a list changed, from inside a call. */
export const announce = defineTool({
  name: 'announce',
  description: 'Reports a list as changed',
  input: Type.Object({ list: Type.Union([Type.Literal('tools'), Type.Literal('prompts'), Type.Literal('resources')]) }),
  handler: ({ list }, ctx) => {
    ctx.notifyListChanged(list)
    return `announced ${list}`
  }
})

/** Why each `wait_for_cancel` call stopped, by key; `cancellation` reads it (over any transport, stdio included). */
const cancellations = new Map<string, string>()

/**
 * Reports progress 0 (so the client knows it runs, when it sent a progress token), then waits until its signal
 * fires, and records the reason under `key`. Never answers on its own.
 */
export const waitForCancel = defineTool({
  name: 'wait_for_cancel',
  description: 'Waits until the call is cancelled',
  input: Type.Object({ key: Type.String() }),
  handler: async ({ key }, ctx) => await new Promise<string>((resolve) => {
    ctx.signal.addEventListener('abort', () => {
      cancellations.set(key, String(ctx.signal.reason))
      resolve('cancelled')
    }, { once: true })
    ctx.progress(0, 1, 'waiting')
  })
})

/** Why the `wait_for_cancel` call of `key` stopped, for tests that run the tools in their own process. */
export function cancellationReason (key: string): string | undefined {
  return cancellations.get(key)
}

/** What stopped the `wait_for_cancel` call of `key`: the abort reason, or null while it still waits. */
export const cancellation = defineTool({
  name: 'cancellation',
  description: 'Says why a wait_for_cancel call stopped',
  input: Type.Object({ key: Type.String() }),
  handler: ({ key }) => ({ reason: cancellations.get(key) ?? null })
})

export const NOTE_URI = 'notes://today'
export const OTHER_NOTE_URI = 'notes://tomorrow'

export const serverToClientResources: AnyResource[] = [
  defineResource({ uri: NOTE_URI, name: 'today', mimeType: 'text/plain', handler: () => 'buy milk' }),
  defineResource({ uri: OTHER_NOTE_URI, name: 'tomorrow', mimeType: 'text/plain', handler: () => 'buy bread' })
]

export const serverToClientTools: AnyTool[] = [greet, summarize, listRoots, gather, countdown, chatter, touch, announce, waitForCancel, cancellation]

export default { tools: serverToClientTools, resources: serverToClientResources }
