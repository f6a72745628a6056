import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { findCycles, folderOf, importGraph, REPO_ROOT } from '../../scripts/import-graph.js'

const graph = importGraph('plugin')

/** The folders each layer may import from, besides itself; arrows point down only. */
const ALLOWED: Record<string, RegExp> = {
  protocol: /^protocol(\/|$)/,
  'protocol/modern': /^protocol(\/|$)/,
  completions: /^(protocol|completions)(\/|$)/,
  tools: /^(\(root\)|protocol|completions)(\/|$)/,
  resources: /^(\(root\)|protocol|completions)(\/|$)/,
  prompts: /^(\(root\)|protocol|completions)(\/|$)/,
  dispatch: /^(protocol|completions|tools|resources|prompts|dispatch)(\/|$)/,
  redis: /^redis(\/|$)/,
  sessions: /^(protocol|sessions|redis|dispatch)(\/|$)/,
  'transports/stdio': /^(protocol|dispatch|transports\/stdio)(\/|$)/,
  bridge: /^(\(root\)|protocol|tools|dispatch|bridge)(\/|$)/,
  // Telemetry watches the dispatcher from beside it; the transports tell it about refusals and streams.
  telemetry: /^(\(root\)|protocol|dispatch|telemetry)(\/|$)/,
  'telemetry/tracing': /^(\(root\)|protocol|dispatch|telemetry)(\/|$)/,
  'telemetry/metrics': /^(\(root\)|protocol|dispatch|telemetry)(\/|$)/
}

test('plugin/ has no import cycle, type-only imports included', () => {
  assert.ok(graph.size > 40, 'the walk found the sources (sanity check)')
  assert.deepEqual(findCycles(graph), [])
})

test('arrows point down: each layer imports only the layers below it', () => {
  const upward: string[] = []
  for (const [file, targets] of graph) {
    const allowed = ALLOWED[folderOf(file)]
    if (allowed === undefined) continue
    for (const target of targets) if (folderOf(target) !== folderOf(file) && !allowed.test(folderOf(target))) upward.push(`${file} -> ${target}`)
  }
  assert.deepEqual(upward, [])
})

test('the ground floor and the registries import no Fastify', () => {
  const fastify = /from\s+['"](fastify|fastify-plugin|@fastify\/[^'"]+)['"]/
  const offenders = [...graph.keys()]
    .filter((file) => /^plugin\/(protocol|tools|resources|prompts|completions|dispatch|sessions|transports\/stdio|telemetry)\//.test(file))
    .filter((file) => fastify.test(readFileSync(join(REPO_ROOT, file), 'utf8')))
  assert.deepEqual(offenders, [])
})
