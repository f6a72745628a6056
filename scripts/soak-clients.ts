import http from 'node:http'
import { request } from '../bench/lib/http.js'
import { Samples, percentile, sleep } from '../bench/lib/stats.js'
import { SseSession } from './soak-sse-session.js'

/**
 * The client side of `npm run soak`, forked by scripts/soak.ts so that its sockets and memory are not counted as
 * the server's. Modes: `load` (legacy SSE sessions and stateless callers hammering `echo_tag` for a while, every
 * answer checked against what was asked) and `churn` (sessions opened and dropped, cleanly and abruptly). It
 * sends its result to the parent over IPC and exits. Loopback only: the bench's `request` refuses anything else.
 */
export interface SessionTally { tag: string, sent: number, answered: number, crossTalk: number, duplicates: number, errors: number }
export interface LoadResult { sessions: SessionTally[], callers: SessionTally, latency: { count: number, p50: number, p99: number, max: number }, seconds: number }
export interface ChurnResult { kinds: Record<string, { done: number, failed: number }>, seconds: number, firstFailure: string | undefined }
export interface LoadArgs { sseBase: string, token: string, sessions: number, callers: number, durationMs: number, window: number }
export interface ChurnArgs { sseBase: string, statefulBase: string, token: string, count: number, concurrency: number }

const tally = (tag: string): SessionTally => ({ tag, sent: 0, answered: 0, crossTalk: 0, duplicates: 0, errors: 0 })
const callBody = (id: string, tag: string, seq: number): string =>
  JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo_tag', arguments: { tag, seq, delayMs: seq % 3 } } })

/** Does the answer carry what was asked, for the session that asked it? */
function matches (message: any, tag: string, seq: number, sessionId: string | null): boolean {
  const echoed = message?.result?.structuredContent
  return echoed?.tag === tag && echoed?.seq === seq && echoed?.sessionId === sessionId
}

/** One SSE session keeping `window` calls in flight until `running()` turns false. */
async function driveSession (args: LoadArgs, index: number, agent: http.Agent, latencies: Samples, running: () => boolean): Promise<{ session: SseSession, tally: SessionTally, idle: () => boolean }> {
  const session = await new SseSession().open(args.sseBase, args.token)
  const count = tally(`sse-${index}`)
  const pending = new Map<string, { seq: number, at: number }>()
  const answered = new Set<string>()
  const url = new URL(session.endpoint, args.sseBase).href
  let seq = 0
  const send = (): void => {
    const mine = ++seq
    const id = `${count.tag}:${mine}`
    pending.set(id, { seq: mine, at: performance.now() })
    count.sent++
    request(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${args.token}` }, body: callBody(id, count.tag, mine), agent })
      .then((answer) => { if (answer.status !== 202) throw new Error(`POST answered ${answer.status}`) })
      .catch(() => {
        count.errors++
        pending.delete(id)
        if (running()) setTimeout(send, 10)
      })
  }
  session.onMessage = (message) => {
    const asked = pending.get(message.id)
    if (asked === undefined) {
      if (answered.has(message.id)) count.duplicates++
      else count.crossTalk++
      return
    }
    pending.delete(message.id)
    answered.add(message.id)
    count.answered++
    latencies.push(performance.now() - asked.at)
    if (!matches(message, count.tag, asked.seq, session.sessionId)) count.crossTalk++
    if (running()) send()
  }
  for (let i = 0; i < args.window; i++) send()
  return { session, tally: count, idle: () => pending.size === 0 }
}

/** One stateless caller: a POST, its answer checked, the next POST, until `running()` turns false. */
async function driveCaller (args: LoadArgs, index: number, agent: http.Agent, latencies: Samples, count: SessionTally, running: () => boolean): Promise<void> {
  const tag = `caller-${index}`
  for (let seq = 1; running(); seq++) {
    const id = `${tag}:${seq}`
    const at = performance.now()
    count.sent++
    try {
      const answer = await request(`${args.sseBase}/mcp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${args.token}` },
        body: callBody(id, tag, seq),
        agent
      })
      if (answer.status !== 200) { count.errors++; continue }
      const message = JSON.parse(answer.body)
      count.answered++
      latencies.push(performance.now() - at)
      if (message.id !== id || !matches(message, tag, seq, null)) count.crossTalk++
    } catch {
      count.errors++
    }
  }
}

async function load (args: LoadArgs): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: args.callers + args.sessions * args.window + 16 })
  const latencies = new Samples()
  const started = performance.now()
  const deadline = Date.now() + args.durationMs
  const running = (): boolean => Date.now() < deadline
  const sessions = await Promise.all(Array.from({ length: args.sessions }, async (_, i) => await driveSession(args, i, agent, latencies, running)))
  const callers = tally(`stateless callers (${args.callers})`)
  await Promise.all(Array.from({ length: args.callers }, async (_, i) => { await driveCaller(args, i, agent, latencies, callers, running) }))
  // Stop sending, then give the answers still on their way up to 15 s to arrive.
  const drainDeadline = Date.now() + 15_000
  while (sessions.some((s) => !s.idle()) && Date.now() < drainDeadline) await sleep(20)
  const seconds = (performance.now() - started) / 1000
  await Promise.all(sessions.map(async ({ session }, i) => { await session.close(i % 2 === 1) }))
  agent.destroy()
  const sorted = latencies.sorted()
  return {
    sessions: sessions.map((s) => s.tally),
    callers,
    latency: { count: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] ?? NaN },
    seconds
  }
}

const KINDS = ['sse-fin', 'sse-rst', 'stateful-delete', 'stateful-abandoned'] as const

/** Opens one session of `kind` and drops it the way that kind says; throws when the server answered wrongly. */
async function churnOne (args: ChurnArgs, kind: typeof KINDS[number], agent: http.Agent, i: number): Promise<void> {
  const auth = { authorization: `Bearer ${args.token}` }
  if (kind === 'sse-fin' || kind === 'sse-rst') {
    const session = await new SseSession().open(args.sseBase, args.token)
    if (i % 10 === 0) {
      const answer = new Promise((resolve) => { session.onMessage = resolve })
      const posted = await request(new URL(session.endpoint, args.sseBase).href, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: i, method: 'ping' }), agent })
      if (posted.status !== 202) throw new Error(`POST /messages answered ${posted.status}`)
      await answer
    }
    await session.close(kind === 'sse-rst')
    return
  }
  const mcp = `${args.statefulBase}/mcp`
  const init = await request(mcp, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'soak', version: '1' } } }),
    agent
  })
  const sessionId = init.headers['mcp-session-id']
  if (init.status !== 200 || typeof sessionId !== 'string') throw new Error(`initialize answered ${init.status}`)
  if (kind === 'stateful-delete') {
    const ended = await request(mcp, { method: 'DELETE', headers: { ...auth, 'mcp-session-id': sessionId }, agent })
    if (ended.status !== 204) throw new Error(`DELETE answered ${ended.status}`)
    return
  }
  // Abandoned: the GET stream is opened, then the connection is reset; the session stays until its idle timeout.
  await new Promise<void>((resolve, reject) => {
    const req = http.get(mcp, { headers: { ...auth, accept: 'text/event-stream', 'mcp-session-id': sessionId }, agent: false }, (res) => {
      if (res.statusCode !== 200) reject(new Error(`GET /mcp answered ${String(res.statusCode)}`))
      res.on('error', () => {})
      res.on('close', () => { resolve() })
      res.socket.resetAndDestroy()
    })
    req.on('error', () => { resolve() })
  })
}

async function churn (args: ChurnArgs): Promise<ChurnResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: args.concurrency })
  const kinds = Object.fromEntries(KINDS.map((kind) => [kind, { done: 0, failed: 0 }]))
  let next = 0
  let firstFailure: string | undefined
  const started = performance.now()
  async function worker (): Promise<void> {
    while (next < args.count) {
      const i = next++
      const kind = KINDS[i % KINDS.length]
      try {
        await churnOne(args, kind, agent, i)
        kinds[kind].done++
      } catch (error) {
        kinds[kind].failed++
        firstFailure ??= `${kind}: ${(error as Error).message}`
      }
    }
  }
  await Promise.all(Array.from({ length: args.concurrency }, worker))
  agent.destroy()
  return { kinds, seconds: (performance.now() - started) / 1000, firstFailure }
}

const [mode, raw] = process.argv.slice(2)
const result = mode === 'load' ? await load(JSON.parse(raw) as LoadArgs) : await churn(JSON.parse(raw) as ChurnArgs)
process.send?.(result, () => { process.exit(0) })
