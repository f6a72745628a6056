import type { TestContext } from 'node:test'
import { REPO_ROOT } from '../../helpers/spawn-server.js'
import { freePort, spawnManaged, type ManagedProcess } from './child-process.js'

/** The bearer token every replica accepts (as behind one load balancer). */
export const CLUSTER_TOKEN = 'cluster-test-token-0123456789'
/** Shared by the replicas so that any of them can verify another's 2026-07-28 requestState. */
export const CLUSTER_REQUEST_STATE_SECRET = 'cluster-test-request-state-secret'

export interface ReplicaOptions {
  /** Environment of every replica, over the defaults (shared token and request-state secret, LOG_LEVEL info). */
  env?: Record<string, string | undefined>
  /** Environment of replica `index` only, over `env`. */
  envFor?: (index: number) => Record<string, string | undefined>
  /** Arguments after `node server` (the port is chosen here: do not pass --port). */
  args?: string[]
}

export interface ReplicaLogLine {
  level: number
  msg: string
  [field: string]: unknown
}

export interface Replica {
  readonly index: number
  /** Fixed for the replica's life, restarts included, so a load balancer's upstream list stays right. */
  readonly port: number
  /** `127.0.0.1:<port>`, as nginx reports it in `X-Upstream` and its access log. */
  readonly address: string
  readonly baseUrl: string
  readonly running: boolean
  /** stdout and stderr of the current process. */
  output: () => string
  /** The current process's JSON log lines (pino, on stdout). */
  logs: () => ReplicaLogLine[]
  /** Resolves with the first log line (of the current process) that `match` accepts. */
  waitForLog: (match: (line: ReplicaLogLine) => boolean, what: string, ms?: number) => Promise<ReplicaLogLine>
  /** Sends `signal` and waits for the exit (SIGTERM drains first; SIGKILL after `graceMs`, 15 s by default). */
  stop: (signal?: NodeJS.Signals, graceMs?: number) => Promise<{ code: number | null, signal: NodeJS.Signals | null }>
  /** Starts the replica again on its port, with extra environment if given; resolves once it listens. */
  start: (env?: Record<string, string | undefined>) => Promise<void>
}

/** Starts `count` replicas of `node server` (child processes, each on its own loopback port); all killed when the test ends. */
export async function startReplicas (t: TestContext, count: number, options: ReplicaOptions = {}): Promise<Replica[]> {
  return await Promise.all(Array.from({ length: count }, async (_, index) => await startReplica(t, index, options)))
}

export async function startReplica (t: TestContext, index: number, options: ReplicaOptions = {}): Promise<Replica> {
  const port = await freePort()
  let current: ManagedProcess | undefined
  t.after(async () => { await current?.stop('SIGKILL') })

  const launch = async (extra: Record<string, string | undefined> = {}): Promise<void> => {
    if (current?.running === true) throw new Error(`replica ${index} is already running`)
    const env = { ...inheritedEnv(), LOG_LEVEL: 'info', MCP_TOKEN: CLUSTER_TOKEN, MCP_REQUEST_STATE_SECRET: CLUSTER_REQUEST_STATE_SECRET, ...options.env, ...options.envFor?.(index), ...extra }
    current = spawnManaged(process.execPath, ['server', ...(options.args ?? []), '--port', String(port)], { cwd: REPO_ROOT, env: withoutUndefined(env) })
    await waitForLog(current, (line) => line.msg === 'MCP server listening', `replica ${index} listening on ${port}`, 15_000)
  }
  await launch()

  return {
    index,
    port,
    address: `127.0.0.1:${port}`,
    baseUrl: `http://127.0.0.1:${port}`,
    get running () { return current?.running === true },
    output: () => current?.output() ?? '',
    logs: () => current === undefined ? [] : parseLogs(current.output()),
    waitForLog: async (match, what, ms) => await waitForLog(current as ManagedProcess, match, what, ms),
    stop: async (signal = 'SIGTERM', graceMs = 15_000) => {
      if (current === undefined) return { code: null, signal: null }
      await current.stop(signal, graceMs)
      return await current.exited
    },
    start: launch
  }
}

async function waitForLog (process: ManagedProcess, match: (line: ReplicaLogLine) => boolean, what: string, ms = 10_000): Promise<ReplicaLogLine> {
  const deadline = Date.now() + ms
  for (;;) {
    const found = parseLogs(process.output()).find(match)
    if (found !== undefined) return found
    if (!process.running) throw new Error(`${what}: the replica exited\n${process.output()}`)
    if (Date.now() > deadline) throw new Error(`${what}: not seen within ${ms} ms\n${process.output()}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

function parseLogs (output: string): ReplicaLogLine[] {
  const lines: ReplicaLogLine[] = []
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue
    try {
      lines.push(JSON.parse(line) as ReplicaLogLine)
    } catch { /* a line still being written */ }
  }
  return lines
}

/** The test's environment without anything that configures `node server`, so that only the test decides. */
function inheritedEnv (): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('MCP_') && !['HOST', 'PORT', 'LOG_LEVEL', 'NODE_OPTIONS'].includes(name)))
}

function withoutUndefined (env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined))
}
