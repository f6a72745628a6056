import { expect, test } from 'tstyche'
import { defineResource } from 'fastify-mcp-host'

test('a template\'s handler gets exactly its variables, {+path} included', () => {
  defineResource({
    name: 'file',
    uriTemplate: 'repo://{owner}/{name}/{+path}',
    handler: (uri, variables) => {
      expect(uri).type.toBe<string>()
      expect(variables).type.toBe<Record<'owner' | 'name' | 'path', string>>()
      return variables.path
    }
  })
})

test('reading a variable the template lacks fails to compile', () => {
  expect(defineResource({ name: 'u', uriTemplate: 'users://{id}', handler: (_uri, variables) => variables.name })).type.toRaiseError()
})

test('completers are keyed by the template\'s variables', () => {
  expect(defineResource({ name: 'u', uriTemplate: 'users://{id}', complete: { id: () => ['1', '2'] }, handler: () => '' })).type.not.toRaiseError()
  expect(defineResource({ name: 'u', uriTemplate: 'users://{id}', complete: { name: () => [] }, handler: () => '' })).type.toRaiseError()
})

test('a static resource\'s handler gets the URI alone', () => {
  defineResource({
    name: 'readme',
    uri: 'docs://readme',
    handler: (uri, ctx) => {
      expect(uri).type.toBe<string>()
      expect(ctx).type.not.toBe<Record<string, string>>()
      return 'text'
    }
  })
})
