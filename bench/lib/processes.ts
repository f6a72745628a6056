import { spawn, execFileSync, type ChildProcess, type SpawnOptions } from 'node:child_process'
import { cpus } from 'node:os'
import { fileURLToPath } from 'node:url'
import type { MemoryReport } from '../servers/common.js'

/** The repository root (dist/bench/lib/ → ../../..): `node server` runs from here. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url))
/** Compiled bench servers. */
export const SERVERS_DIR = fileURLToPath(new URL('../servers/', import.meta.url))

function findTaskset (): string | undefined {
  if (process.env.BENCH_NO_PIN === '1') return undefined
  try {
    return execFileSync('which', ['taskset'], { encoding: 'utf8' }).trim() || undefined
  } catch {
    return undefined
  }
}

const TASKSET = cpus().length >= 2 ? findTaskset() : undefined
/** Core the servers run on, core the load generator (this process) runs on; undefined when not pinning. */
export const SERVER_CORE = TASKSET === undefined ? undefined : '0'
export const LOAD_CORE = TASKSET === undefined ? undefined : '1'

export function pinningLine (): string {
  return TASKSET === undefined
    ? 'not pinned (taskset missing, one core, or BENCH_NO_PIN=1)'
    : `servers pinned to core ${SERVER_CORE as string}, load generator to core ${LOAD_CORE as string} (taskset)`
}

/**
 * Runs this script again under `taskset -c <load core>` unless it already is; resolves true when the caller
 * should go on (already pinned, or pinning unavailable), else exits with the pinned run's exit code.
 */
export async function pinSelf (): Promise<boolean> {
  if (TASKSET === undefined || process.env.BENCH_PINNED === '1') return true
  const child = spawn(TASKSET, ['-c', LOAD_CORE as string, process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit', env: { ...process.env, BENCH_PINNED: '1' }
  })
  // A signal goes on to the pinned run, which stops what it started (redis-server too) and exits; we follow.
  pinnedRun = child
  const code = await new Promise<number>((resolve) => {
    child.once('exit', (exitCode, signal) => { resolve(exitCode ?? (signal !== null ? 1 : 0)) })
  })
  process.exit(code)
}

// Every process the bench starts, so that all of them die with it, whatever happens.
const children = new Set<ChildProcess>()
/** In the unpinned parent: the pinned re-run of the bench, which gets our signals. */
let pinnedRun: ChildProcess | undefined

function killAll (): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  }
}
process.on('exit', killAll)
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    if (pinnedRun !== undefined && pinnedRun.exitCode === null) {
      pinnedRun.kill(signal)
      return
    }
    killAll()
    process.exit(130)
  })
}

/** Spawns `node ...nodeArgs` on the server core; tracked, so it is killed when the bench exits. */
export function spawnNode (nodeArgs: string[], options: SpawnOptions = {}): ChildProcess {
  return spawnPinned(process.execPath, nodeArgs, options)
}

/** Spawns any program (redis-server, say) on the server core, or the load generator's; tracked like `spawnNode`. */
export function spawnPinned (program: string, programArgs: string[], options: SpawnOptions = {}, core: 'server' | 'load' = 'server'): ChildProcess {
  const [command, args] = TASKSET === undefined
    ? [program, programArgs]
    : [TASKSET, ['-c', (core === 'server' ? SERVER_CORE : LOAD_CORE) as string, program, ...programArgs]]
  const child = spawn(command, args, { cwd: REPO_ROOT, ...options })
  children.add(child)
  child.once('exit', () => { children.delete(child) })
  return child
}

/** Kills one child and waits for it to be gone. */
export async function kill (child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => { resolve() }))
  child.kill(signal)
  await exited
}

/** A bench server child with its control channel. */
export class ServerChild {
  private seq = 0
  private readonly waiting = new Map<number, (body: Record<string, unknown>) => void>()

  private constructor (readonly name: string, readonly child: ChildProcess, readonly baseUrl: string) {
    child.on('message', (message: { seq: number } & Record<string, unknown>) => {
      const resolve = this.waiting.get(message.seq)
      if (resolve === undefined) return
      this.waiting.delete(message.seq)
      resolve(message)
    })
  }

  /** Starts `dist/bench/servers/<script>.js` with --expose-gc on the server core and waits for its address. */
  static async start (name: string, script: string, nodeFlags: string[] = [], env: NodeJS.ProcessEnv = {}, stdout: 'ignore' | 'pipe' = 'ignore'): Promise<ServerChild> {
    return await ServerChild.spawn(name, ['--expose-gc', ...nodeFlags, `${SERVERS_DIR}${script}.js`], env, stdout, 'ipc')
  }

  /**
   * Starts `node server` as shipped (from the repo root, with `args`), its stdout a pipe the bench drains, as an
   * operator's log shipper would; the control channel comes from a preload, the address from its listening line.
   */
  static async startNodeServer (name: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<ServerChild> {
    return await ServerChild.spawn(name, ['--expose-gc', `--import=${SERVERS_DIR}control-preload.js`, 'server', ...args], env, 'pipe', 'stdout')
  }

  private static async spawn (name: string, nodeArgs: string[], env: NodeJS.ProcessEnv, stdout: 'ignore' | 'pipe', ready: 'ipc' | 'stdout'): Promise<ServerChild> {
    const child = spawnNode(nodeArgs, { stdio: ['ignore', stdout, 'pipe', 'ipc'], env: { ...process.env, ...env } })
    let stderr = ''
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
    let buffered = ''
    let announced: ((address: string) => void) | undefined
    // A piped stdout is read to the end, whatever it says: a full pipe would stall the server.
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      if (announced === undefined) return
      buffered += chunk
      const lines = buffered.split('\n')
      buffered = lines.pop() ?? ''
      for (const line of lines) {
        if (!line.includes('"MCP server listening"')) continue
        announced((JSON.parse(line) as { address: string }).address)
        announced = undefined
        buffered = ''
        return
      }
    })
    const address = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error(`${name} did not start in 20 s:\n${stderr}`)) }, 20_000)
      const done = (value: string): void => {
        clearTimeout(timer)
        resolve(value)
      }
      if (ready === 'stdout') announced = done
      child.on('message', (message: { ready?: boolean, address?: string }) => {
        if (ready === 'ipc' && message.ready === true && typeof message.address === 'string') done(message.address)
      })
      child.once('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`${name} exited with ${String(code)} before listening:\n${stderr}`))
      })
    })
    return new ServerChild(name, child, address)
  }

  private async request (type: string, timeoutMs = 30_000): Promise<Record<string, unknown>> {
    const seq = ++this.seq
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(seq)
        reject(new Error(`${this.name}: no answer to "${type}" within ${timeoutMs} ms`))
      }, timeoutMs)
      this.waiting.set(seq, (body) => { clearTimeout(timer); resolve(body) })
      this.child.send({ seq, type })
    })
  }

  async memory (): Promise<MemoryReport> {
    return (await this.request('gc')).memory as MemoryReport
  }

  async sessions (): Promise<number> {
    return (await this.request('sessions')).sessions as number
  }

  /** CPU time used so far (µs) and the child's clock (ms): two readings give its CPU utilisation. */
  async cpu (): Promise<{ cpuMicros: number, at: number, monoUs: number }> {
    const body = await this.request('cpu')
    return { cpuMicros: body.cpuMicros as number, at: body.at as number, monoUs: body.monoUs as number }
  }

  /** Orderly exit (so that --cpu-prof writes its profile); SIGKILL if it takes longer than `graceMs`. */
  async stop (graceMs = 5_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => { resolve() }))
    try {
      this.child.send({ seq: ++this.seq, type: 'exit' })
    } catch {}
    const timer = setTimeout(() => { this.child.kill('SIGKILL') }, graceMs)
    await exited
    clearTimeout(timer)
  }
}
