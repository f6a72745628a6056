/**
 * `npm run test:conformance`: runs the official MCP conformance suite (its server scenarios) against
 * `node server --tools dist/test/conformance/fixture.js`: each protocol era against each server mode, failing when
 * the suite does.
 * Builds nothing: run it after `tsc`. Results land in conformance-results/<time>-<mode>/ (one checks.json per
 * scenario), with the server's log beside them.
 *
 * It lives outside test/ because Node 20's `node --test dist/test/` runs every .js file under a directory
 * named test, and this is not a unit test.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync, type WriteStream } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))
const FIXTURE = join('dist', 'test', 'conformance', 'fixture.js')
const RESULTS_DIR = 'conformance-results'
/** The suite, pinned; it needs Node 22, which npx fetches as a package. 0.1.x covers the 2025 revisions, the 0.2
 * prereleases add the 2026-07-28 revision. */
const SUITE_2025 = ['-y', '-p', 'node@22', '-p', '@modelcontextprotocol/conformance@0.1.16', 'conformance', 'server', '--suite', 'all']
const SUITE_02 = ['-y', '-p', 'node@22', '-p', '@modelcontextprotocol/conformance@0.2.0-alpha.12', 'conformance', 'server']

interface Run {
  name: string
  /** Flags for `node server` besides the fixture, port and --no-auth. */
  flags: readonly string[]
  suite: readonly string[]
}

/** Every run: each era against each server mode. A run's baseline is test/conformance/expected-failures-<name>.yml. */
const RUNS: readonly Run[] = [
  { name: 'stateless', flags: [], suite: SUITE_2025 },
  { name: 'stateful', flags: ['--stateful'], suite: SUITE_2025 },
  { name: '2025-11-25-stateful', flags: ['--stateful'], suite: [...SUITE_02, '--requirements', '2025-11-25'] },
  { name: '2026-07-28-stateless', flags: [], suite: [...SUITE_02, '--spec-version', '2026-07-28', '--suite', 'all'] },
  { name: '2026-07-28-stateful', flags: ['--stateful'], suite: [...SUITE_02, '--spec-version', '2026-07-28', '--suite', 'all'] }
]
const START_TIMEOUT_MS = 15_000
/** A green run takes seconds; every server-to-client request left unanswered costs the suite 60 s. */
const SUITE_TIMEOUT_MS = 8 * 60_000
const STOP_TIMEOUT_MS = 10_000

function say (text: string): void {
  process.stdout.write(`${text}\n`)
}

function exited (child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode)
  return new Promise((resolve) => child.once('exit', (code) => { resolve(code) }))
}

/** `--expected-failures <file>` when the mode's baseline lists any scenario (an empty list means none). */
function baselineArgs (mode: string): string[] {
  const file = join('test', 'conformance', `expected-failures-${mode}.yml`)
  if (!existsSync(join(REPO_ROOT, file))) return []
  const listsAny = readFileSync(join(REPO_ROOT, file), 'utf8').split('\n').some((line) => /^\s*-\s+[^\s#]/.test(line))
  return listsAny ? ['--expected-failures', file] : []
}

/** Starts the server on a free loopback port without auth (the suite sends no credentials); resolves its URL. */
async function startServer (flags: readonly string[], log: WriteStream): Promise<{ child: ChildProcess, address: string }> {
  // The suite opens about forty sessions from one address within seconds and never ends them, which the
  // default per-caller cap (meant for a shared deployment) would refuse.
  const env: NodeJS.ProcessEnv = { ...process.env, MCP_SHUTDOWN_GRACE_MS: '1000', MCP_MAX_SESSIONS_PER_IDENTITY: '1000' }
  for (const name of ['MCP_TOKEN', 'MCP_TOKEN_FILE', 'MCP_TOOLS', 'MCP_TRANSPORT', 'HOST', 'PORT']) delete env[name]
  const args = ['server', '--tools', FIXTURE, '--host', '127.0.0.1', '--port', '0', '--no-auth', ...flags]
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
  child.stderr.pipe(log, { end: false })
  let buffered = ''
  const address = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`the server did not report "MCP server listening" within ${START_TIMEOUT_MS} ms`)) }, START_TIMEOUT_MS)
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      log.write(chunk)
      buffered += chunk
      const line = buffered.split('\n').find((candidate) => candidate.includes('MCP server listening'))
      if (line === undefined) return
      clearTimeout(timer)
      resolve(JSON.parse(line).address as string)
    })
    void exited(child).then((code) => {
      clearTimeout(timer)
      reject(new Error(`the server exited with code ${String(code)} before listening`))
    })
  })
  return { child, address }
}

async function stopServer (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  child.kill('SIGTERM')
  const timer = setTimeout(() => { child.kill('SIGKILL') }, STOP_TIMEOUT_MS)
  await exited(child)
  clearTimeout(timer)
}

/** Runs the suite, echoing its output; resolves with its exit code (1 when it had to be stopped). */
async function runSuite (suite: readonly string[], url: string, outDir: string, baseline: string[], log: WriteStream): Promise<number> {
  const args = [...suite, '--url', url, '-o', outDir, ...baseline]
  say(`$ npx ${args.join(' ')}`)
  // Its own process group, so that a timeout stops npx and the suite it started together.
  const child = spawn('npx', args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  for (const stream of [child.stdout, child.stderr]) {
    stream.on('data', (chunk: Buffer) => { process.stdout.write(chunk); log.write(chunk) })
  }
  const timer = setTimeout(() => {
    say(`The suite did not finish within ${SUITE_TIMEOUT_MS / 60_000} minutes: stopping it`)
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL')
  }, SUITE_TIMEOUT_MS)
  const code = await exited(child)
  clearTimeout(timer)
  return code ?? 1
}

/** Prints every check that failed or warned, with its message: suite mode itself prints only counts. */
function printProblems (outDir: string): void {
  if (!existsSync(outDir)) return
  const lines: string[] = []
  for (const entry of readdirSync(outDir, { withFileTypes: true })) {
    const file = join(outDir, entry.name, 'checks.json')
    if (!entry.isDirectory() || !existsSync(file)) continue
    const scenario = entry.name.replace(/^server-/, '').replace(/-\d{4}-\d{2}-\d{2}T.*$/, '')
    const checks = JSON.parse(readFileSync(file, 'utf8')) as Array<{ id: string, status: string, errorMessage?: string, details?: { message?: string } }>
    for (const check of checks) {
      if (check.status !== 'FAILURE' && check.status !== 'WARNING') continue
      const why = check.errorMessage ?? check.details?.message
      lines.push(`  ${scenario}: [${check.id}] ${check.status}${why === undefined ? '' : ` ${why}`}`)
    }
  }
  if (lines.length > 0) say(`\nFailed and warning checks (details in ${outDir}/*/checks.json):\n${lines.join('\n')}`)
}

async function runMode (mode: Run, stamp: string): Promise<boolean> {
  const outDir = join(RESULTS_DIR, `${stamp}-${mode.name}`)
  mkdirSync(join(REPO_ROOT, outDir), { recursive: true })
  const log = createWriteStream(join(REPO_ROOT, outDir, 'server.log'))
  say(`\n=== Conformance, ${mode.name} ===`)
  let server: ChildProcess | undefined
  try {
    const started = await startServer(mode.flags, log)
    server = started.child
    say(`node server ${['--no-auth', ...mode.flags].join(' ')} listens on ${started.address} (log: ${outDir}/server.log)`)
    const code = await runSuite(mode.suite, `${started.address}/mcp`, outDir, baselineArgs(mode.name), log)
    printProblems(join(REPO_ROOT, outDir))
    return code === 0
  } catch (error) {
    say(`The ${mode.name} run failed: ${(error as Error).message} (see ${outDir}/server.log)`)
    return false
  } finally {
    if (server !== undefined) await stopServer(server)
    log.end()
  }
}

async function main (): Promise<number> {
  if (!existsSync(join(REPO_ROOT, FIXTURE))) {
    say(`${FIXTURE} is missing: build first (npx tsc -p .)`)
    return 1
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, '-')
  const outcomes: Array<[string, boolean]> = []
  for (const run of RUNS) outcomes.push([run.name, await runMode(run, stamp)])
  say('\n=== Conformance outcome ===')
  for (const [name, passed] of outcomes) say(`${name}: ${passed ? 'passed' : 'FAILED'}`)
  return outcomes.every(([, passed]) => passed) ? 0 : 1
}

process.exitCode = await main()
