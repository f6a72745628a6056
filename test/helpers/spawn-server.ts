import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** The repository root: `node server` runs from here, as the README says. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url))

/** A test context, or anything that runs cleanups when the test (or file) ends. */
export interface Cleanups {
  after: (cleanup: () => Promise<void>) => void
}

export interface SpawnedServer {
  child: ChildProcess
  baseUrl: string
  /** Everything the process printed so far. */
  stdout: () => string
  stderr: () => string
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>
}

export interface SpawnResult {
  child: ChildProcess
  stdout: () => string
  stderr: () => string
  exited: Promise<number | null>
}

/** Runs `node server ...args` from the repo root; killed when the test ends if still running. */
export function runServer (t: Cleanups, args: string[], env: Record<string, string | undefined> = {}): SpawnResult {
  const child = spawn(process.execPath, ['server', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, MCP_TOKEN: undefined, MCP_TOKEN_FILE: undefined, HOST: undefined, PORT: undefined, ...env },
    stdio: ['pipe', 'pipe', 'pipe']
  })
  let out = ''
  let err = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { out += chunk })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { err += chunk })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => { resolve(code) }))
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await exited
    }
  })
  return { child, stdout: () => out, stderr: () => err, exited }
}

/** Starts the HTTP server on a free loopback port and resolves once it listens. */
export async function spawnServer (t: Cleanups, args: string[] = [], env: Record<string, string | undefined> = {}): Promise<SpawnedServer> {
  const run = runServer(t, ['--port', '0', ...args], env)
  const address = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`server did not start:\n${run.stdout()}\n${run.stderr()}`)) }, 15_000)
    const onData = (): void => {
      for (const line of run.stdout().split('\n')) {
        if (!line.includes('MCP server listening')) continue
        clearTimeout(timer)
        run.child.stdout?.off('data', onData)
        resolve(JSON.parse(line).address as string)
        return
      }
    }
    run.child.stdout?.on('data', onData)
    void run.exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`server exited with ${String(code)} before listening:\n${run.stdout()}\n${run.stderr()}`))
    })
  })
  return { ...run, baseUrl: address }
}
