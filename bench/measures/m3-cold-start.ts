import type { ChildProcess } from 'node:child_process'
import { BENCH_TOKEN, MCP_POST_HEADERS } from '../servers/common.js'
import { request } from '../lib/http.js'
import { kill, spawnNode, SERVERS_DIR } from '../lib/processes.js'
import { ratio, type Section } from '../lib/report.js'
import { fmt, median } from '../lib/stats.js'
import type { Settings } from './context.js'

const STATUS_CALL = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'server_status', arguments: {} } })

/** The environment `node server` sees: a token, a free port, loopback, nothing else from ours leaking in. */
function serverEnv (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    MCP_TOKEN: BENCH_TOKEN,
    MCP_TOKEN_FILE: undefined,
    MCP_TOOLS: undefined,
    MCP_TRANSPORT: undefined,
    MCP_SSE: undefined,
    LOG_LEVEL: undefined,
    HOST: '127.0.0.1',
    PORT: '0',
    ...extra
  }
}

function isStatusAnswer (message: unknown): boolean {
  const result = (message as { id?: unknown, result?: { structuredContent?: { status?: unknown }, isError?: unknown } }) ?? {}
  return result.id === 2 && result.result?.structuredContent?.status === 'ok' && result.result.isError !== true
}

/** Calls `onLine` for each stdout line until it returns a value. */
async function firstLine<T> (child: ChildProcess, what: string, onLine: (line: string) => T | undefined): Promise<T> {
  return await new Promise((resolve, reject) => {
    let buffered = ''
    let stderr = ''
    const timer = setTimeout(() => { reject(new Error(`${what}: nothing after 20 s\n${buffered}\n${stderr}`)) }, 20_000)
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
    child.stdout?.setEncoding('utf8').on('data', function onData (chunk: string) {
      buffered += chunk
      let newline = buffered.indexOf('\n')
      while (newline !== -1) {
        const line = buffered.slice(0, newline)
        buffered = buffered.slice(newline + 1)
        let value: T | undefined
        try {
          value = onLine(line)
        } catch (error) {
          clearTimeout(timer)
          reject(error)
          return
        }
        if (value !== undefined) {
          clearTimeout(timer)
          child.stdout?.off('data', onData)
          resolve(value)
          return
        }
        newline = buffered.indexOf('\n')
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${what} exited with ${String(code)}:\n${buffered}\n${stderr}`))
    })
  })
}

function listeningAddress (line: string): string | undefined {
  try {
    const parsed = JSON.parse(line) as { msg?: string, address?: string }
    return parsed.msg === 'MCP server listening' || parsed.msg === 'bench server listening' ? parsed.address : undefined
  } catch {
    return undefined
  }
}

/** Spawn → listening line on stdout → first correct `tools/call` answer over HTTP; ms. */
async function coldHttp (nodeArgs: string[], what: string): Promise<number> {
  const started = performance.now()
  const child = spawnNode(nodeArgs, { stdio: ['ignore', 'pipe', 'pipe'], env: serverEnv() })
  try {
    const address = await firstLine(child, what, listeningAddress)
    const answer = await request(`${address}/mcp`, { method: 'POST', headers: MCP_POST_HEADERS, body: STATUS_CALL })
    if (answer.status !== 200 || !isStatusAnswer(JSON.parse(answer.body))) throw new Error(`${what}: wrong answer ${answer.status} ${answer.body}`)
    return performance.now() - started
  } finally {
    await kill(child)
  }
}

/** Spawn `node server --transport stdio` → initialize, initialized, tools/call written at once → the answer; ms. */
async function coldStdio (): Promise<number> {
  const started = performance.now()
  const child = spawnNode(['server', '--transport', 'stdio'], { stdio: ['pipe', 'pipe', 'pipe'], env: serverEnv({ MCP_TOKEN: undefined }) })
  try {
    child.stdin?.write([
      JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '0' } } }),
      JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
      STATUS_CALL,
      ''
    ].join('\n'))
    await firstLine(child, 'stdio entry', (line) => {
      let message: unknown
      try { message = JSON.parse(line) } catch { return undefined }
      if ((message as { id?: unknown }).id !== 2) return undefined
      if (!isStatusAnswer(message)) throw new Error(`stdio entry: wrong answer ${line}`)
      return true
    })
    return performance.now() - started
  } finally {
    child.stdin?.end()
    await kill(child)
  }
}

/** M3: cold start of `node server` (HTTP), a bare Fastify server, and the stdio entry, interleaved. */
export async function measureM3 (settings: Settings, log: (line: string) => void): Promise<Section> {
  const entries = {
    bare: async () => await coldHttp([`${SERVERS_DIR}bare-fastify.js`], 'bare Fastify'),
    http: async () => await coldHttp(['server'], 'node server'),
    stdio: coldStdio
  }
  // One discarded start each: the first one pays for the file cache.
  for (const run of Object.values(entries)) await run()
  const times: Record<keyof typeof entries, number[]> = { bare: [], http: [], stdio: [] }
  for (let i = 0; i < settings.coldRuns; i++) {
    for (const [name, run] of Object.entries(entries) as Array<[keyof typeof entries, () => Promise<number>]>) {
      times[name].push(await run())
    }
  }
  const bare = median(times.bare)
  const http = median(times.http)
  const stdio = median(times.stdio)
  log(`M3: node server ${fmt(http, 1)} ms, bare Fastify ${fmt(bare, 1)} ms, stdio ${fmt(stdio, 1)} ms (medians)`)
  const list = (values: number[]): string => values.map((v) => fmt(v, 0)).join(', ')
  return {
    title: 'M3 cold start',
    rows: [
      { measure: `M3 cold start \`node server\` → first tools/call (ms, median of ${settings.coldRuns})`, ours: fmt(http, 1), ceiling: fmt(bare, 1), ratio: ratio(http, bare), target: '≤ 1.15× bare Fastify', pass: http <= 1.15 * bare },
      { measure: 'M3 cold start stdio entry → first tools/call (ms); ceiling column: `node server` HTTP', ours: fmt(stdio, 1), ceiling: fmt(http, 1), ratio: ratio(stdio, http), target: '< 1× (faster than HTTP)', pass: stdio < http }
    ],
    notes: [
      'Each start: spawn (pinned to the server core) → the listening line on stdout → POST /mcp tools/call `server_status` (Authorization included) → a checked answer; the bare Fastify ceiling is bench/servers/bare-fastify.ts (logger off, one route). stdio: initialize, notifications/initialized and tools/call written at spawn, timed to the tools/call answer.',
      `All samples (ms): node server ${list(times.http)}; bare Fastify ${list(times.bare)}; stdio ${list(times.stdio)}.`
    ]
  }
}
