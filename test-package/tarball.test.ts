// The package as users get it: `npm pack`, installed in a fresh app on the oldest Fastify 5.x this package
// supports and on the newest, every entry imported, the app type-checked against the installed declarations, and
// real calls served through the plugin, the stdio entry and the bin. Needs the npm registry: `npm run test:package`
// (after a build), run by .ci/run, not by `npm test`.
import { test, describe, before, after, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))
const CONSUMER = join(REPO_ROOT, 'test-package/consumer-app')
const run = promisify(execFile)
const NPM_FLAGS = ['--no-audit', '--no-fund', '--loglevel=error']
const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  name: string, version: string, peerDependencies: Record<string, string>, exports: Record<string, unknown>, bin: Record<string, string>
}

let work: string
let tarball: string

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'mcp-package-'))
  // --ignore-scripts: dist/ is already built; `prepare` would build it again.
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work, ...NPM_FLAGS], { cwd: REPO_ROOT })
  tarball = join(work, (JSON.parse(stdout) as Array<{ filename: string }>)[0].filename)
})

after(() => { rmSync(work, { recursive: true, force: true }) })

/** The lowest version the peer range admits: `^5.0.0` gives 5.0.0. */
function oldestSupported (range: string): string {
  const match = /^\^(\d+\.\d+\.\d+)$/.exec(range)
  assert.ok(match !== null, `peerDependencies.fastify is a caret range, got ${range}`)
  return match[1]
}

/** A fresh app with the tarball installed (and fastify at `fastify`, or npm's choice for the peer when undefined). */
async function installApp (name: string, fastify: string | undefined): Promise<string> {
  const dir = join(work, name)
  cpSync(CONSUMER, dir, { recursive: true })
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }))
  const specs = fastify === undefined ? [tarball] : [tarball, `fastify@${fastify}`]
  await run('npm', ['install', '--omit=dev', ...NPM_FLAGS, ...specs], { cwd: dir })
  return dir
}

function installedVersion (dir: string, name: string): string {
  return (JSON.parse(readFileSync(join(dir, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version
}

/**
 * Compiles app.ts with the repository's TypeScript against the app's installed packages, then runs it. With
 * `libCheck`, every installed declaration file is checked too (about three times the work): an error in the app
 * or in this package's declarations fails; one in another package's declarations is that package's to fix, and
 * is reported as a diagnostic (a strict consumer without skipLibCheck sees it too).
 */
async function typeCheckAndRun (t: TestContext, dir: string, libCheck: boolean): Promise<{ http: { status: number, structuredContent: unknown, hostStatus: string }, stdio: unknown, version: string }> {
  const tsc = join(REPO_ROOT, 'node_modules/typescript/bin/tsc')
  const args = [tsc, '-p', join(dir, 'tsconfig.json'), '--typeRoots', join(REPO_ROOT, 'node_modules/@types'), ...(libCheck ? [] : ['--skipLibCheck'])]
  const compiled = await run(process.execPath, args, { cwd: dir }).then(() => '', (error: { stdout: string }) => error.stdout)
  const errors = compiled.split('\n').filter((line) => /^\S.*: error TS\d+:/.test(line))
  const foreign = errors.filter((line) => line.startsWith('node_modules/') && !line.startsWith(`node_modules/${pkg.name}/`))
  for (const line of foreign) t.diagnostic(`in another package's declarations: ${line}`)
  assert.deepEqual(errors.filter((line) => !foreign.includes(line)), [], `the consumer app does not type-check:\n${compiled}`)
  assert.ok(errors.length > 0 || compiled === '', `tsc failed without a type error:\n${compiled}`)
  const { stdout } = await run(process.execPath, ['out/app.js'], { cwd: dir, timeout: 30_000 })
  return JSON.parse(stdout)
}

/** Starts the installed bin with a tools module, calls its tool over HTTP, then stops it with SIGTERM. */
async function serveWithBin (dir: string): Promise<{ text: unknown, exitCode: number | null }> {
  const bin = join(dir, 'node_modules/.bin', Object.keys(pkg.bin)[0])
  const child = spawn(bin, ['--port', '0', '--tools', './tools.js'], { cwd: dir, env: { ...process.env, MCP_TOKEN: 'bin-token', HOST: undefined, PORT: undefined } })
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
  try {
    const address = await new Promise<string>((resolve, reject) => {
      let seen = ''
      child.stdout.on('data', (chunk: Buffer) => {
        seen += chunk.toString()
        const match = /"address":"(http:\/\/[^"]+)"/.exec(seen)
        if (match !== null) resolve(match[1])
      })
      child.once('exit', (code) => { reject(new Error(`the bin exited with ${code} before listening: ${seen}`)) })
    })
    const response = await fetch(`${address}/mcp`, {
      method: 'POST',
      headers: { authorization: 'Bearer bin-token', 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'multiply', arguments: { a: 6, b: 7 } } })
    })
    const body = await response.json() as { result: { content: Array<{ text: string }> } }
    child.kill('SIGTERM')
    return { text: body.result.content[0].text, exitCode: await exited }
  } finally {
    child.kill('SIGKILL')
  }
}

async function checkApp (t: TestContext, dir: string, libCheck: boolean): Promise<void> {
  const result = await typeCheckAndRun(t, dir, libCheck)
  assert.deepEqual(result.http, { status: 200, structuredContent: { sum: 5 }, hostStatus: 'ok' })
  assert.deepEqual(result.stdio, { sum: 42 })
  assert.equal(result.version, pkg.version)

  const bin = join(dir, 'node_modules/.bin', Object.keys(pkg.bin)[0])
  assert.equal((await run(bin, ['--version'])).stdout, `${pkg.version}\n`)
  assert.deepEqual(await serveWithBin(dir), { text: '42', exitCode: 0 })

  // The Docker image installs the tarball the same way into /app and runs the compose service's command there.
  const [command, ...args] = composeCommand()
  assert.equal(command, 'node')
  assert.equal((await run(process.execPath, [...args, '--version'], { cwd: dir })).stdout, `${pkg.version}\n`)
}

function composeCommand (): string[] {
  const compose = parse(readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8')) as { services: Record<string, { command: string[] }> }
  return Object.values(compose.services)[0].command
}

test('the package exports exactly the entries this test imports, and a bin', () => {
  assert.deepEqual(Object.keys(pkg.exports).sort(), ['.', './core', './stdio'])
  assert.deepEqual(Object.keys(pkg.bin), [pkg.name])
})

test('the tarball holds the built code, the licence and no source maps, sources or tests', async () => {
  const { stdout } = await run('tar', ['-tzf', tarball])
  const files = stdout.trim().split('\n').map((line) => line.replace(/^package\//, ''))
  for (const needed of ['LICENSE', 'README.md', 'package.json', 'dist/plugin/index.js', 'dist/plugin/index.d.ts', 'dist/plugin/core.js', 'dist/server/bundle/main.js']) {
    assert.ok(files.includes(needed), `${needed} is packed`)
  }
  assert.deepEqual(files.filter((file) => /\.map$|\.ts$(?<!\.d\.ts)|^(test|bench|scripts|plugin|server\/[^p])/.test(file)), [])
  // The build starts from an empty dist/: no output of a source file that was moved or deleted is packed.
  const stale = files.filter((file) => /^dist\/plugin\/.*\.js$/.test(file) && !existsSync(join(REPO_ROOT, file.replace(/^dist\//, '').replace(/\.js$/, '.ts'))))
  assert.deepEqual(stale, [])
})

// The two apps install and compile side by side: most of the time is npm and tsc waiting on each other.
describe('installed in a fresh app', { concurrency: true }, () => {
  test('on the oldest supported Fastify 5.x, the package type-checks (its declarations too), serves a call on each entry, and its bin serves', { timeout: 300_000 }, async (t) => {
    const oldest = oldestSupported(pkg.peerDependencies.fastify)
    const dir = await installApp('oldest-fastify', oldest)
    assert.equal(installedVersion(dir, 'fastify'), oldest)
    await checkApp(t, dir, true)
  })

  test('installed alone, the package brings the newest Fastify 5.x as its peer; it type-checks, serves, and its bin serves', { timeout: 300_000 }, async (t) => {
    const dir = await installApp('newest-fastify', undefined)
    const { stdout } = await run('npm', ['view', `fastify@${pkg.peerDependencies.fastify}`, 'version', '--json', ...NPM_FLAGS])
    const published = JSON.parse(stdout) as string | string[]
    assert.equal(installedVersion(dir, 'fastify'), Array.isArray(published) ? published[published.length - 1] : published)
    await checkApp(t, dir, false)
  })
})
