import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, sep } from 'node:path'
import { REPO_ROOT } from '../helpers/spawn-server.js'

const SCRIPT = join(REPO_ROOT, 'scripts', 'run-tests.mjs')
const CLUSTER_DIR = join('dist', 'test', 'cluster') + sep

function checkWithPath (path: string): { status: number | null, stderr: string } {
  const run = spawnSync(process.execPath, [SCRIPT, 'check-cluster-tools'], { env: { PATH: path }, encoding: 'utf8' })
  return { status: run.status, stderr: run.stderr }
}

test('npm run test:cluster fails with the install command when redis-server is not on PATH, never skips', (t) => {
  const empty = mkdtempSync(join(tmpdir(), 'mcp-path-'))
  t.after(() => { rmSync(empty, { recursive: true, force: true }) })
  const { status, stderr } = checkWithPath(empty)
  assert.equal(status, 1)
  assert.match(stderr, /needs redis-server( and nginx)? on PATH/)
  assert.match(stderr, /apt-get install -y redis-server nginx-light/)
})

test('the cluster tools check passes when redis-server and nginx are on PATH', (t) => {
  const bin = mkdtempSync(join(tmpdir(), 'mcp-path-'))
  t.after(() => { rmSync(bin, { recursive: true, force: true }) })
  for (const name of ['redis-server', 'nginx']) {
    writeFileSync(join(bin, name), '#!/bin/sh\nexit 0\n')
    chmodSync(join(bin, name), 0o755)
  }
  assert.deepEqual(checkWithPath(bin), { status: 0, stderr: '' })
})

function listed (suite: string): string[] {
  const run = spawnSync(process.execPath, [SCRIPT, suite, '--list'], { encoding: 'utf8' })
  assert.equal(run.status, 0, run.stderr)
  return run.stdout.trim().split('\n')
}

test('npm test runs every compiled test file except the cluster suite\'s, which npm run test:cluster runs', () => {
  const unit = listed('unit')
  const cluster = listed('cluster')
  assert.ok(unit.includes(join('dist', 'test', 'scripts', 'run-tests.test.js')), 'this file is in the Node-only suite')
  assert.ok(cluster.includes(join('dist', 'test', 'cluster', 'redis-connection.test.js')))
  assert.deepEqual(unit.filter((file) => file.startsWith(CLUSTER_DIR)), [])
  assert.ok(unit.includes(join('dist', 'test', 'redis', 'redis-url.test.js')), 'the Redis unit tests need no redis-server')
  assert.ok(cluster.every((file) => file.startsWith(CLUSTER_DIR) && file.endsWith('.test.js')))
  assert.ok(unit.every((file) => file.endsWith('.test.js')), 'helpers are not run as test files')

  const scripts = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts
  assert.match(scripts.test, /^node scripts\/run-tests\.mjs unit( && |$)/)
  assert.equal(scripts['test:cluster'], 'node scripts/run-tests.mjs check-cluster-tools && npm run build && node scripts/run-tests.mjs cluster')
})
