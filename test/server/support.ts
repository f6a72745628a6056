import { join } from 'node:path'
import { createServer, type Server } from 'node:net'
import type { TestContext } from 'node:test'
import type { ChildProcess } from 'node:child_process'
import { REPO_ROOT } from '../helpers/spawn-server.js'

/** The compiled --tools fixture: the shared fixture tools plus `chatty`. */
export const TOOLS_FIXTURE = join(REPO_ROOT, 'dist', 'test', 'fixtures', 'tools.js')

/** `node server` as a command and arguments, for clients that spawn it (any working directory). */
export const SERVER_ENTRY = join(REPO_ROOT, 'server')

export const TOKEN = 'server-test-token-1'

/** Resolves with the exit code, or rejects if the process is still running after `ms`. */
export async function exitWithin (exited: Promise<number | null>, ms: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => { reject(new Error(`the process did not exit within ${ms} ms`)) }, ms)
  })
  try {
    return await Promise.race([exited, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** Resolves once the process has exited and its stdout and stderr are fully read (`exit` can come earlier). */
export async function closed (child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null && child.stdout?.readableEnded === true && child.stderr?.readableEnded === true) return child.exitCode
  return await new Promise((resolve) => child.once('close', (code: number | null) => { resolve(code) }))
}

/** Holds a free loopback port for the rest of the test, so that nothing else can bind it. */
export async function holdPort (t: TestContext): Promise<number> {
  const server: Server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(async () => { await new Promise((resolve) => server.close(resolve)) })
  return (server.address() as { port: number }).port
}

/** Polls `check` until it returns a value other than undefined, or fails after `ms`. */
export async function waitFor<T> (what: string, check: () => Promise<T | undefined> | T | undefined, ms = 5_000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
