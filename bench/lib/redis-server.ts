import { execFileSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { kill, spawnPinned } from './processes.js'

/** What to run when the machine has no Redis (Debian's package, Redis 7). */
export const REDIS_INSTALL_COMMAND = 'apt-get install -y redis-server'

/** The path of `redis-server` on PATH, or undefined when there is none. */
export function findRedisServer (): string | undefined {
  try {
    return execFileSync('which', ['redis-server'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || undefined
  } catch {
    return undefined
  }
}

/** CPU time Redis has used so far (user + system, µs), from `INFO cpu`. */
export interface RedisCounters { cpuMicros: number, commands: Map<string, number>, usedMemory: number }

export interface BenchRedis {
  readonly url: string
  readonly pid: number | undefined
  /** Keys in the database (everything in it is the host's: this Redis is the bench's own). */
  keyCount: () => Promise<number>
  /** Up to `limit` key names, for a report that says what was left behind. */
  someKeys: (limit: number) => Promise<string[]>
  /** CPU time, calls per command (`INFO commandstats`) and `used_memory`. */
  counters: () => Promise<RedisCounters>
  stop: () => Promise<void>
}

async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** Resolves once redis-server says it is ready; rejects with its output when it exits first. */
async function waitUntilReady (child: ChildProcess, port: number): Promise<void> {
  let output = ''
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`redis-server on port ${port} not ready in 10 s:\n${output}`)) }, 10_000)
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer)
        resolve()
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`redis-server on port ${port} exited with ${String(code)}:\n${output}`))
    })
  })
}

/**
 * Starts the bench's own `redis-server` on a free loopback port, pinned with the servers, in a temporary directory
 * with persistence off (no RDB, no AOF). Killed with every other bench child when the bench exits.
 */
export async function startBenchRedis (program: string, core: 'server' | 'load'): Promise<BenchRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-bench-redis-'))
  const removeDir = (): void => { rmSync(dir, { recursive: true, force: true }) }
  process.once('exit', removeDir)
  let child: ChildProcess | undefined
  let port = 0
  // The free port may be taken before redis-server binds it: try a few.
  for (let attempt = 1; child === undefined; attempt++) {
    port = await freePort()
    const started = spawnPinned(program, ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no',
      '--dir', dir, '--daemonize', 'no', '--logfile', ''], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] }, core)
    try {
      await waitUntilReady(started, port)
      child = started
    } catch (error) {
      await kill(started)
      if (attempt >= 5 || !/Address already in use/.test(String(error))) {
        removeDir()
        throw error
      }
    }
  }
  const url = `redis://127.0.0.1:${port}`
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, connectionName: 'bench' })
  await client.connect()
  const running = child
  return {
    url,
    pid: running.pid,
    keyCount: async () => await client.dbsize(),
    someKeys: async (limit) => (await client.scan('0', 'COUNT', Math.max(limit, 100)))[1].slice(0, limit),
    counters: async () => parseInfo(await client.info('all')),
    async stop () {
      client.disconnect()
      await kill(running, 'SIGTERM')
      removeDir()
    }
  }
}

function parseInfo (info: string): RedisCounters {
  const fields = new Map<string, string>()
  for (const line of info.split('\r\n')) {
    const colon = line.indexOf(':')
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1))
  }
  const seconds = (name: string): number => Number(fields.get(name) ?? 0)
  const commands = new Map<string, number>()
  for (const [name, value] of fields) {
    if (!name.startsWith('cmdstat_')) continue
    const calls = /calls=(\d+)/.exec(value)
    if (calls !== null) commands.set(name.slice('cmdstat_'.length), Number(calls[1]))
  }
  return {
    cpuMicros: Math.round((seconds('used_cpu_user') + seconds('used_cpu_sys')) * 1e6),
    commands,
    usedMemory: Number(fields.get('used_memory') ?? 0)
  }
}

/** Commands run between two readings, busiest first: `[name, calls]`. */
export function commandsBetween (before: RedisCounters, after: RedisCounters): Array<[string, number]> {
  const delta: Array<[string, number]> = []
  for (const [name, calls] of after.commands) {
    const ran = calls - (before.commands.get(name) ?? 0)
    if (ran > 0) delta.push([name, ran])
  }
  return delta.sort((a, b) => b[1] - a[1])
}
