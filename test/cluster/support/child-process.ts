import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A child process of a cluster test: its output kept, its exit awaitable, and never left behind. */
export interface ManagedProcess {
  readonly child: ChildProcess
  readonly pid: number
  /** stdout and stderr so far, interleaved as they arrived. */
  output: () => string
  /** Resolves once the process has exited (with its code, or the signal that ended it). */
  readonly exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
  readonly running: boolean
  /** Sends `signal` and waits for the exit; SIGKILL after `graceMs` if it is still there. */
  stop: (signal?: NodeJS.Signals, graceMs?: number) => Promise<void>
}

const live = new Set<ChildProcess>()
// Last resort when a test file ends without its t.after hooks (an uncaught error, process.exit).
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL')
})

export function spawnManaged (command: string, args: string[], options: { cwd?: string, env?: NodeJS.ProcessEnv } = {}): ManagedProcess {
  const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] })
  live.add(child)
  let output = ''
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => { output += chunk })
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => { output += chunk })
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>((resolve) => {
    child.once('close', (code, signal) => {
      live.delete(child)
      resolve({ code, signal })
    })
    child.once('error', (error) => {
      live.delete(child)
      output += `\n${String(error)}`
      resolve({ code: null, signal: null })
    })
  })
  let running = true
  void exited.then(() => { running = false })
  const stop = async (signal: NodeJS.Signals = 'SIGTERM', graceMs = 5_000): Promise<void> => {
    if (!running) return
    child.kill(signal)
    const timer = setTimeout(() => { child.kill('SIGCONT'); child.kill('SIGKILL') }, graceMs)
    await exited
    clearTimeout(timer)
  }
  return { child, pid: child.pid ?? -1, output: () => output, exited, get running () { return running }, stop }
}

/** Resolves when `pattern` appears in the process's output; rejects if it exits first or after `ms`. */
export async function waitForOutput (process: ManagedProcess, pattern: RegExp, what: string, ms = 10_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + ms
  for (;;) {
    const match = process.output().match(pattern)
    if (match !== null) return match
    if (!process.running) throw new Error(`${what} exited before it was ready:\n${process.output()}`)
    if (Date.now() > deadline) throw new Error(`${what} was not ready within ${ms} ms:\n${process.output()}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** A loopback port that was free a moment ago (for programs that cannot listen on port 0 and report it). */
export async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** A fresh temporary directory; the caller removes it (`removeDir`) after stopping what runs in it. */
export function tempDir (name: string): string {
  return mkdtempSync(join(tmpdir(), `mcp-${name}-`))
}

export function removeDir (dir: string): void {
  rmSync(dir, { recursive: true, force: true })
}
