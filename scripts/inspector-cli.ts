/**
 * The official MCP inspector CLI as an independent client, for `npm run test:inspector`. It needs Node 22 and comes
 * from the npm registry through npx (about 50 s the first time, then about 6 s a call).
 */
import { execFile } from 'node:child_process'

const INSPECTOR = ['-y', '-p', 'node@22', '-p', '@modelcontextprotocol/inspector@2.12.0', 'inspector', '--cli']

/** The inspector's exit codes (MCP-NOTES.md): 5 for an isError result, 3 when auth is missing. */
export const TOOL_ERROR = 5
export const AUTH_MISSING = 3

export interface InspectorRun {
  code: number
  /** stdout parsed as JSON (the inspector prints the result there). */
  json: any
  stderr: string
}

/**
 * One inspector CLI run against `url`, with `Authorization: Bearer <token>` as a header when a token is given;
 * npm's engine warnings are dropped from stderr.
 */
export async function runInspector (url: string, transport: 'http' | 'sse', token: string | undefined, args: string[]): Promise<InspectorRun> {
  const auth = token === undefined ? [] : ['--header', `Authorization: Bearer ${token}`]
  return await new Promise((resolve) => {
    execFile('npx', [...INSPECTOR, url, '--transport', transport, ...args, ...auth], { timeout: 240_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      let json: unknown
      try { json = JSON.parse(stdout) } catch { json = undefined }
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1
      resolve({ code, json, stderr: stderr.split('\n').filter((line) => !/npm warn|EBADENGINE|^\s*(package|required|current):|^\s*}$/.test(line)).join('\n') })
    })
  })
}
