import type { Static, TObject, TSchema } from 'typebox'
import type { GetPromptResult, PromptMessage } from '../protocol/spec.js'
import type { HandlerContext } from '../protocol/handler-context.js'
import type { Completer } from '../completions/completer.js'

/** What a prompt handler may return: a string (one user message), a list of messages, or a full result. */
export type PromptReturn = string | PromptMessage[] | GetPromptResult

/**
 * A prompt template: a plain object. `arguments` is a TypeBox object schema whose properties are strings
 * (prompt arguments are strings on the wire); each property's `description` is shown to users.
 */
export interface PromptDefinition<Args extends TSchema = TObject> {
  name: string
  title?: string
  description?: string
  arguments?: Args
  /** Suggestions per argument (`completion/complete`). */
  complete?: Partial<Record<keyof Static<Args> & string, Completer>>
  /**
   * Scopes a caller's access token must grant (OAuth, or a verify function whose identity has `scopes`); without
   * them the request gets 403 `insufficient_scope` and the client can authorize again (docs/oauth.md). Static
   * tokens are not restricted.
   */
  scopes?: readonly string[]
  handler: (args: Static<Args>, ctx: HandlerContext) => PromptReturn | Promise<PromptReturn>
}

export type AnyPrompt = PromptDefinition<any>

/** Identity helper that types a prompt's handler from its arguments schema. */
export function definePrompt<Args extends TSchema = TObject> (prompt: PromptDefinition<Args>): PromptDefinition<Args> {
  return prompt
}
