import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { Worker } from 'node:worker_threads'
import fc from 'fast-check'
import { compileUriTemplate, UriTemplateError } from '../../plugin/resources/uri-template.js'
import { createDispatcher, defineResource } from '../../plugin/core.js'
import { McpConfigError } from '../../plugin/errors.js'

const match = (template: string, uri: string): Record<string, string> | undefined => compileUriTemplate(template).match(uri)

describe('URI templates: {name} and {+name}', () => {
  test('{name} matches one path segment, percent-decoded', () => {
    assert.deepEqual(match('users://{id}/profile', 'users://alice/profile'), { id: 'alice' })
    assert.deepEqual(match('users://{id}/profile', 'users://j%C3%BCrgen%20k/profile'), { id: 'jürgen k' })
    assert.equal(match('users://{id}/profile', 'users://a/b/profile'), undefined, 'a slash ends the segment')
    assert.equal(match('users://{id}/profile', 'users://a?x/profile'), undefined, 'so do ? and #')
    assert.equal(match('users://{id}/profile', 'users:///profile'), undefined, 'a variable is never empty')
    assert.equal(match('users://{id}/profile', 'users://alice/profile/more'), undefined, 'the whole URI must fit')
    assert.equal(match('users://{id}/profile', 'other://alice/profile'), undefined)
  })

  test('{+path} matches the rest, slashes included, percent-decoded', () => {
    assert.deepEqual(match('file:///{+path}', 'file:///etc/hosts'), { path: 'etc/hosts' })
    assert.deepEqual(match('file:///{+path}', 'file:///a%2Fb/c%20d'), { path: 'a/b/c d' })
    assert.deepEqual(match('repo://{+path}/edit', 'repo://src/lib/a.ts/edit'), { path: 'src/lib/a.ts' })
    assert.deepEqual(match('repo://{+path}/files/{name}', 'repo://a/files/b/files/c'), { path: 'a/files/b', name: 'c' }, 'greedy, as RFC 6570 matchers are')
    assert.deepEqual(match('x://{+a}/{+b}', 'x://1/2/3'), { a: '1/2', b: '3' })
    assert.equal(match('file:///{+path}', 'file:///'), undefined)
  })

  test('several variables in one segment split the way a greedy regex would', () => {
    assert.deepEqual(match('file://{name}.{ext}', 'file://report.pdf'), { name: 'report', ext: 'pdf' })
    assert.deepEqual(match('file://{name}.{ext}', 'file://archive.tar.gz'), { name: 'archive.tar', ext: 'gz' })
    assert.deepEqual(match('gh://{owner}-{repo}', 'gh://a-b-c'), { owner: 'a-b', repo: 'c' })
    assert.deepEqual(match('x://{a}.{b}.{c}', 'x://1.2.3.4'), { a: '1.2', b: '3', c: '4' })
    assert.deepEqual(match('x://{a}{b}', 'x://xyz'), { a: 'xy', b: 'z' })
    assert.equal(match('file://{name}.{ext}', 'file://noext'), undefined)
  })

  test('a template without variables matches only itself', () => {
    assert.deepEqual(match('memo://fixed', 'memo://fixed'), {})
    assert.equal(match('memo://fixed', 'memo://fixed2'), undefined)
  })

  test('a value that is not valid percent-encoding does not match', () => {
    assert.equal(match('users://{id}', 'users://%E0%A4%A'), undefined)
    assert.equal(match('file:///{+path}', 'file:///%'), undefined)
  })

  test('the matcher agrees with a backtracking regex of the same template on short URIs', () => {
    const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')
    const literal = fc.string({ unit: fc.constantFrom('a', '.', '-', '/'), maxLength: 3 })
    const variables = fc.array(fc.tuple(fc.boolean(), literal), { minLength: 1, maxLength: 4 })
    const rest = fc.string({ unit: fc.constantFrom('a', 'b', '.', '-', '/', '?', '%'), maxLength: 14 })
    fc.assert(fc.property(literal, variables, rest, (prefix, parts, tail) => {
      let source = `^${escape(prefix)}`
      let template = prefix
      for (const [index, [reserved, after]] of parts.entries()) {
        source += `${reserved ? '(.+)' : '([^/?#]+)'}${escape(after)}`
        template += `{${reserved ? '+' : ''}v${index}}${after}`
      }
      const uri = `${prefix}${tail}`
      const found = new RegExp(`${source}$`).exec(uri)
      let expected: Record<string, string> | undefined
      try {
        expected = found === null ? undefined : Object.fromEntries(parts.map((_part, i) => [`v${i}`, decodeURIComponent(found[i + 1])]))
      } catch {
        expected = undefined
      }
      assert.deepEqual(match(template, uri), expected, `${template} against ${uri}`)
    }), { seed: 17, numRuns: 5000 })
  })

  test('matching work grows linearly: 4 MiB built to make a backtracking matcher quadratic is matched at once', { timeout: 60_000 }, async () => {
    // In a worker, so that a matcher that backtracks (minutes for this input) can be stopped and reported.
    const moduleUrl = new URL('../../plugin/resources/uri-template.js', import.meta.url).href
    const worker = new Worker(`
      const { parentPort, workerData } = require('node:worker_threads')
      import(workerData.moduleUrl).then(({ compileUriTemplate }) => {
        const dots = 'a.'.repeat(2 * 1024 * 1024)
        const results = [
          compileUriTemplate('file://{name}.{ext}').match('file://' + dots + '/'),
          compileUriTemplate('gh://{owner}-{repo}').match('gh://' + 'a-'.repeat(2 * 1024 * 1024) + '/'),
          compileUriTemplate('x://{+a}.{+b}/end').match('x://' + dots + '/'),
          compileUriTemplate('file://{name}.{ext}').match('file://' + dots + 'z').name.length
        ]
        parentPort.postMessage(results)
      })
    `, { eval: true, workerData: { moduleUrl } })
    const outcome = await new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => { worker.terminate().catch(reject); reject(new Error('matching 4 MiB did not finish within 30 s: the matcher backtracks')) }, 30_000)
      worker.once('message', (message) => { clearTimeout(timer); worker.terminate().then(() => { resolve(message) }, reject) })
      worker.once('error', (error) => { clearTimeout(timer); reject(error) })
    })
    assert.deepEqual(outcome, [undefined, undefined, undefined, 4 * 1024 * 1024 - 1])
  })
})

describe('URI templates the matcher does not support are refused at registration', () => {
  const refused: Array<[string, RegExp]> = [
    ['search://{?q}', /the RFC 6570 operator "\?" in "\{\?q\}" is not supported/],
    ['doc://{id}{#section}', /operator "#"/],
    ['tree://{/path}', /operator "\/"/],
    ['x://{.ext}', /operator "\."/],
    ['x://{;params}', /operator ";"/],
    ['x://{&more}', /operator "&"/],
    ['x://{a,b}', /lists, "\*" explode and ":" prefix/],
    ['x://{list*}', /lists, "\*" explode/],
    ['x://{name:3}', /":" prefix/],
    ['x://{}', /an empty expression/],
    ['x://{na-me}', /variable names are letters, digits and _/],
    ['x://{id', /"\{" without "\}"/],
    ['x://id}', /"\}" without "\{"/],
    ['x://{id}/{id}', /the variable "id" appears twice/]
  ]

  for (const [template, reason] of refused) {
    test(`"${template}" is refused with a reason`, () => {
      assert.throws(() => compileUriTemplate(template), (error: Error) => error instanceof UriTemplateError && reason.test(error.message))
      const resource = defineResource({ uriTemplate: template, name: 'tpl', handler: () => 'x' })
      assert.throws(() => createDispatcher({ info: { name: 't', version: '1' }, tools: [], resources: [resource] }), (error: Error) => {
        assert.ok(error instanceof McpConfigError)
        assert.equal(error.code, 'MCP_ERR_DEFINITION')
        assert.match(error.message, /^Invalid resource template "tpl": /)
        assert.match(error.message, reason)
        return true
      })
    })
  }
})
