import { Type } from 'typebox'
import { defineResource, definePrompt, type AnyPrompt, type AnyResource } from '../../plugin/core.js'

/** Resources and prompts the tests read over every transport and era. */
export const fixtureResources: AnyResource[] = [
  defineResource({ uri: 'memo://readme', name: 'readme', mimeType: 'text/markdown', handler: () => '# Hello' }),
  defineResource({ uri: 'memo://logo', name: 'logo', mimeType: 'image/png', handler: () => new Uint8Array([137, 80, 78, 71]) }),
  defineResource({
    uriTemplate: 'users://{id}/profile',
    name: 'profile',
    mimeType: 'application/json',
    complete: { id: (value) => ['alice', 'bob', 'carol'].filter((id) => id.startsWith(value)) },
    handler: (_uri, { id }) => JSON.stringify({ id })
  })
]

export const fixturePrompts: AnyPrompt[] = [
  definePrompt({
    name: 'review',
    description: 'Asks for a code review',
    arguments: Type.Object({ language: Type.String({ description: 'Programming language' }), focus: Type.Optional(Type.String()) }),
    complete: { language: (value) => ['typescript', 'python', 'rust'].filter((l) => l.startsWith(value)) },
    handler: ({ language, focus }) => `Review this ${language} code${focus === undefined ? '' : `, focusing on ${focus}`}.`
  })
]
