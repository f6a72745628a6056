import { fork } from 'node:child_process'
import { createHook } from 'node:async_hooks'
import { fileURLToPath } from 'node:url'
import Fastify, { type FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import mcpPlugin, { defineResource, defineTool, type McpPluginOptions } from '../plugin/index.js'
import { fmt, fmtInt, mib, sleep } from '../bench/lib/stats.js'
import type { ChurnArgs, ChurnResult, LoadArgs, LoadResult, SessionTally } from './soak-clients.js'
import type { AttackArgs, AttackResult } from './soak-attacker.js'

/**
 * `npm run soak`: load and churn against the plugin on loopback, then a markdown report; exits 1 if a check fails.
 * The servers run in this process (their memory and handles are what is measured); the clients run in a forked
 * child. Settings: SOAK_DURATION (seconds of load, default 60), SOAK_SESSIONS (SSE sessions, 50), SOAK_CALLERS
 * (stateless callers, 100), SOAK_CHURN (sessions opened and dropped, 10,000), SOAK_ATTACK_DURATION (30).
 * Last, an honest load with headroom (one call in flight per SSE session, a tenth of the callers) runs alone for
 * SOAK_ATTACK_DURATION seconds, then again beside an attacker with a token of its own (scripts/soak-attacker.ts:
 * slow bodies, session flooding, subscription flooding): every honest request must still be answered, with p99
 * within 2× of the run without it. (The main load saturates the server on purpose; under saturation any extra
 * request costs everyone, which is what rate limits are for, not these caps.)
 */
const DURATION_S = Number(process.env.SOAK_DURATION ?? 60)
const SESSIONS = Number(process.env.SOAK_SESSIONS ?? 50)
const CALLERS = Number(process.env.SOAK_CALLERS ?? 100)
const CHURN = Number(process.env.SOAK_CHURN ?? 10_000)
const ATTACK_S = Number(process.env.SOAK_ATTACK_DURATION ?? 30)
const TOKEN = 'soak-token-0123456789abcdef'
const ATTACKER_TOKEN = 'soak-attacker-token-0123456789'
/** Sessions one identity may hold on the load server: the honest clients' 50, and as many for the attacker. */
const CAP_PER_IDENTITY = SESSIONS + 10
const SLOW_BODIES = 100
const SUBSCRIPTIONS_PER_SESSION = 150
const IDLE_MS = 2_000

const echoTag = defineTool({
  name: 'echo_tag',
  description: 'Echoes its tag and sequence number with the caller\'s session, after 0-2 ms',
  input: Type.Object({ tag: Type.String(), seq: Type.Integer(), delayMs: Type.Integer({ minimum: 0, maximum: 10 }) }),
  handler: async ({ tag, seq, delayMs }, ctx) => {
    if (delayMs > 0) await sleep(delayMs)
    return { tag, seq, sessionId: ctx.sessionId ?? null }
  }
})

/** What the attacker subscribes to. */
const watched = defineResource({ uriTemplate: 'soak://{path}', name: 'soak', handler: (uri) => uri })

async function startServer (options: Partial<McpPluginOptions>): Promise<{ app: FastifyInstance, base: string }> {
  const app = Fastify({ logger: { level: 'error', stream: process.stderr } })
  await app.register(mcpPlugin, { auth: { tokens: [TOKEN, ATTACKER_TOKEN] }, tools: [echoTag], resources: [watched], toolTimeoutMs: 10_000, ...options } as McpPluginOptions)
  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  return { app, base: address }
}

async function runClients<T> (mode: 'load' | 'churn' | 'attack', args: LoadArgs | ChurnArgs | AttackArgs): Promise<T> {
  const script = mode === 'attack' ? './soak-attacker.js' : './soak-clients.js'
  const child = fork(fileURLToPath(new URL(script, import.meta.url)), mode === 'attack' ? [JSON.stringify(args)] : [mode, JSON.stringify(args)], { stdio: 'inherit' })
  return await new Promise((resolve, reject) => {
    let result: T | undefined
    child.on('message', (message) => { result = message as T })
    child.on('error', reject)
    child.on('exit', (code) => { result === undefined ? reject(new Error(`the ${mode} clients exited with ${String(code)}`)) : resolve(result) })
  })
}

interface Snapshot { rss: number, heapUsed: number, resources: Record<string, number> }

async function snapshot (): Promise<Snapshot> {
  const gc = (globalThis as { gc?: () => void }).gc
  for (let i = 0; i < 3; i++) { gc?.(); await sleep(100) }
  const resources: Record<string, number> = {}
  for (const type of process.getActiveResourcesInfo()) resources[type] = (resources[type] ?? 0) + 1
  const { rss, heapUsed } = process.memoryUsage()
  return { rss, heapUsed, resources }
}

interface LeftOver { Timeout: number, TCPWRAP: number, timers: string[] }

/**
 * Counts timers and TCP handles created while it is on and not yet destroyed, whether or not they are unref'd;
 * names each timer left (its interval and callback) so that a leak says where it comes from.
 */
function trackHandles (): { stop: () => Promise<LeftOver> } {
  const live = new Map<number, { type: string, resource: { _idleTimeout?: number, _onTimeout?: { name?: string } } }>()
  const hook = createHook({
    init (asyncId, type, _trigger, resource) { if (type === 'Timeout' || type === 'TCPWRAP') live.set(asyncId, { type, resource: resource as never }) },
    destroy (asyncId) { live.delete(asyncId) }
  }).enable()
  return {
    async stop () {
      // Destroy hooks run a turn after a timer fires: let the ones of our own last sleep land first.
      for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve))
      hook.disable()
      const left: LeftOver = { Timeout: 0, TCPWRAP: 0, timers: [] }
      for (const { type, resource } of live.values()) {
        left[type as 'Timeout' | 'TCPWRAP']++
        if (type === 'Timeout') left.timers.push(`${String(resource._idleTimeout)} ms ${resource._onTimeout?.name ?? '(anonymous)'}`)
      }
      return left
    }
  }
}

async function waitUntil (check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) return false
    await sleep(50)
  }
  return true
}

const row = (cells: Array<string | number>): string => `| ${cells.join(' | ')} |`
const resourcesText = (r: Record<string, number>): string => Object.entries(r).sort().map(([type, n]) => `${type} ${n}`).join(', ') || 'none'

function sessionRows (tallies: SessionTally[]): string[] {
  return tallies.map((t) => row([t.tag, fmtInt(t.sent), fmtInt(t.answered), t.crossTalk, t.duplicates, t.errors]))
}

async function main (): Promise<void> {
  const sse = await startServer({ routes: { sse: true, streamableHttp: true }, sse: { maxSessions: SESSIONS + 100 }, maxSessionsPerIdentity: CAP_PER_IDENTITY })
  // The churn opens up to 32 sessions at a time and abandons some: the per-identity cap is not what it measures.
  const stateful = await startServer({ routes: { sse: false }, streamable: { sessions: true, maxSessions: 50_000, idleTimeoutMs: IDLE_MS }, maxSessionsPerIdentity: 50_000 })
  const total = (): number => sse.app.mcp.status().sessions.sse + (stateful.app.mcp.status().sessions.streamableHttp ?? 0)

  // Warm-up, so that the baseline is taken after V8 and the allocators reached their working size.
  await runClients<LoadResult>('load', { sseBase: sse.base, token: TOKEN, sessions: 10, callers: 10, durationMs: 2_000, window: 4 })
  await runClients<ChurnResult>('churn', { sseBase: sse.base, statefulBase: stateful.base, token: TOKEN, count: 400, concurrency: 32 })
  await waitUntil(() => total() === 0, IDLE_MS * 3 + 5_000)
  const baseline = await snapshot()

  const loaded = await runClients<LoadResult>('load', { sseBase: sse.base, token: TOKEN, sessions: SESSIONS, callers: CALLERS, durationMs: DURATION_S * 1000, window: 4 })
  const loadSessionsClosed = await waitUntil(() => total() === 0, 10_000)
  const afterLoad = await snapshot()

  const tracker = trackHandles()
  const churned = await runClients<ChurnResult>('churn', { sseBase: sse.base, statefulBase: stateful.base, token: TOKEN, count: CHURN, concurrency: 32 })
  const storesEmptied = await waitUntil(() => total() === 0, IDLE_MS * 3 + 10_000)
  await sleep(500)
  const afterChurn = await snapshot()
  const leftOver = await tracker.stop()
  const inFlight = sse.app.mcp.status().inFlight + stateful.app.mcp.status().inFlight

  const sent = loaded.sessions.reduce((n, t) => n + t.sent, 0) + loaded.callers.sent
  const answered = loaded.sessions.reduce((n, t) => n + t.answered, 0) + loaded.callers.answered
  const all = [...loaded.sessions, loaded.callers]
  const sum = (key: keyof SessionTally): number => all.reduce((n, t) => n + (t[key] as number), 0)
  const churnFailed = Object.values(churned.kinds).reduce((n, k) => n + k.failed, 0)
  const handlesBack = ['TCPSocketWrap', 'TCPServerWrap', 'Timeout'].every((type) => (afterChurn.resources[type] ?? 0) <= (baseline.resources[type] ?? 0))
  const checks: Array<[string, boolean, string]> = [
    ['every request got exactly one answer, per session', all.every((t) => t.sent === t.answered) && sum('duplicates') === 0, `${fmtInt(sent)} sent, ${fmtInt(answered)} answered, ${sum('duplicates')} duplicates`],
    ['no cross-talk', sum('crossTalk') === 0, `${sum('crossTalk')} answers with another caller's tag, seq or session`],
    ['no refused or failed request under load', sum('errors') === 0, `${sum('errors')} errors`],
    ['load sessions forgotten once closed', loadSessionsClosed, `${total()} left`],
    ['every churned session opened and closed as expected', churnFailed === 0, churned.firstFailure ?? 'no failure'],
    ['session stores back to empty after churn (idle timeout for abandoned sessions)', storesEmptied && inFlight === 0, `SSE ${sse.app.mcp.status().sessions.sse}, stateful ${String(stateful.app.mcp.status().sessions.streamableHttp)}, in flight ${inFlight}`],
    ['JS heap back to baseline (+16 MiB) after churn', afterChurn.heapUsed <= baseline.heapUsed + 16 * 1024 * 1024, `${mib(baseline.heapUsed)} → ${mib(afterChurn.heapUsed)}`],
    ['RSS stable afterwards (after churn ≤ after load + 32 MiB, ≤ baseline + 96 MiB)', afterChurn.rss <= afterLoad.rss + 32 * 1024 * 1024 && afterChurn.rss <= baseline.rss + 96 * 1024 * 1024, `${mib(baseline.rss)} → ${mib(afterLoad.rss)} → ${mib(afterChurn.rss)}`],
    ['no socket, server or timer left keeping the process alive', handlesBack, `${resourcesText(baseline.resources)} → ${resourcesText(afterChurn.resources)}`],
    ['no timer or TCP handle created during churn left behind (unref\'d ones included)', leftOver.Timeout === 0 && leftOver.TCPWRAP === 0, `${leftOver.Timeout} timers${leftOver.timers.length === 0 ? '' : ` (${leftOver.timers.join('; ')})`}, ${leftOver.TCPWRAP} TCP handles`]
  ]

  // An honest load with headroom, alone and then beside an attacker.
  const honest: LoadArgs = { sseBase: sse.base, token: TOKEN, sessions: SESSIONS, callers: Math.ceil(CALLERS / 10), durationMs: ATTACK_S * 1000, window: 1 }
  const reference = await runClients<LoadResult>('load', honest)
  const [attacked, attacker] = await Promise.all([
    runClients<LoadResult>('load', honest),
    runClients<AttackResult>('attack', { base: sse.base, token: ATTACKER_TOKEN, durationMs: ATTACK_S * 1000, slowBodies: SLOW_BODIES, subscriptionsPerSession: SUBSCRIPTIONS_PER_SESSION })
  ])
  const referenceAll = [...reference.sessions, reference.callers]
  const attackedAll = [...attacked.sessions, attacked.callers]
  const attackedSum = (key: keyof SessionTally): number => attackedAll.reduce((n, t) => n + (t[key] as number), 0)
  const refusedSessions = Object.entries(attacker.sessions.refused).map(([status, n]) => `${n} × ${status}`).join(', ') || 'none'
  checks.push(
    ['beside an attacker: every honest request got exactly one answer, none refused, no cross-talk',
      attackedAll.every((t) => t.sent === t.answered) && attackedSum('duplicates') === 0 && attackedSum('errors') === 0 && attackedSum('crossTalk') === 0,
      `${fmtInt(attackedSum('sent'))} sent, ${fmtInt(attackedSum('answered'))} answered, ${attackedSum('errors')} errors, ${attackedSum('crossTalk')} cross-talk`],
    ['beside an attacker: p99 within 2× of the run without', attacked.latency.p99 <= 2 * reference.latency.p99,
      `p99 ${fmt(reference.latency.p99)} ms → ${fmt(attacked.latency.p99)} ms`],
    ['the attacker held at most maxSessionsPerIdentity sessions, and was told 429 past it', attacker.sessions.mostOpen <= CAP_PER_IDENTITY &&
      Object.keys(attacker.sessions.refused).every((status) => status === '429'), `at most ${attacker.sessions.mostOpen} open (cap ${CAP_PER_IDENTITY}); refused: ${refusedSessions}`],
    ['the attacker held at most maxSubscriptionsPerSession subscriptions in any session', attacker.subscriptions.mostPerSession <= 100,
      `at most ${attacker.subscriptions.mostPerSession} in one session; ${fmtInt(attacker.subscriptions.accepted)} accepted, ${fmtInt(attacker.subscriptions.refused)} refused`]
  )

  const lines = [
    '# Soak report', '',
    `Node ${process.version}, ${new Date().toISOString()}; loopback; ${DURATION_S} s of load with ${SESSIONS} legacy SSE sessions (4 calls in flight each) and ${CALLERS} stateless callers; churn of ${fmtInt(CHURN)} sessions.${(globalThis as { gc?: unknown }).gc === undefined ? ' **Run with --expose-gc for meaningful memory figures.**' : ''}`, '',
    `## Load: ${fmt(loaded.seconds, 1)} s, ${fmtInt(answered / loaded.seconds)} answers/s`, '',
    row(['session', 'sent', 'answered', 'cross-talk', 'duplicates', 'errors']), row(['---', '---:', '---:', '---:', '---:', '---:']),
    ...sessionRows(loaded.sessions), ...sessionRows([loaded.callers]),
    row(['**total**', fmtInt(sent), fmtInt(answered), sum('crossTalk'), sum('duplicates'), sum('errors')]), '',
    `Latency (POST to answer, ${fmtInt(loaded.latency.count)} answers): p50 ${fmt(loaded.latency.p50)} ms, **p99 ${fmt(loaded.latency.p99)} ms**, max ${fmt(loaded.latency.max)} ms.`, '',
    `## Churn: ${fmtInt(CHURN)} sessions in ${fmt(churned.seconds, 1)} s`, '',
    row(['kind', 'done', 'failed']), row(['---', '---:', '---:']),
    ...Object.entries(churned.kinds).map(([kind, k]) => row([kind, fmtInt(k.done), k.failed])), '',
    '## Memory and handles (server process, after GC)', '',
    row(['when', 'RSS', 'JS heap used', 'active resources']), row(['---', '---:', '---:', '---']),
    ...([['baseline (after warm-up)', baseline], ['after load', afterLoad], ['after churn', afterChurn]] as const)
      .map(([when, s]) => row([when, mib(s.rss), mib(s.heapUsed), resourcesText(s.resources)])), '',
    `## Beside an attacker: ${ATTACK_S} s twice`, '',
    `An honest load with headroom (${SESSIONS} SSE sessions with one call in flight each, ${honest.callers} stateless callers) alone, then again while another identity ` +
      `trickles ${attacker.slowBodies.opened} request bodies (1 byte/s; ${attacker.slowBodies.openAtEnd} still held at the end), ` +
      `opens legacy SSE sessions (${fmtInt(attacker.sessions.attempts)} tries, ${attacker.sessions.accepted} accepted, at most ${attacker.sessions.mostOpen} open, refused: ${refusedSessions}) ` +
      `and floods each with resources/subscribe (${fmtInt(attacker.subscriptions.sent)} sent, ${fmtInt(attacker.subscriptions.accepted)} accepted, ${fmtInt(attacker.subscriptions.refused)} refused).`, '',
    row(['run', 'sent', 'answered', 'errors', 'p50', 'p99', 'max']), row(['---', '---:', '---:', '---:', '---:', '---:', '---:']),
    ...([['alone', reference, referenceAll], ['beside the attacker', attacked, attackedAll]] as const).map(([name, run, tallies]) => row([name,
      fmtInt(tallies.reduce((n, t) => n + t.sent, 0)), fmtInt(tallies.reduce((n, t) => n + t.answered, 0)), tallies.reduce((n, t) => n + t.errors, 0),
      `${fmt(run.latency.p50)} ms`, `${fmt(run.latency.p99)} ms`, `${fmt(run.latency.max)} ms`])), '',
    '## Checks', '',
    row(['check', 'result', 'figures']), row(['---', '---', '---']),
    ...checks.map(([name, ok, figures]) => row([name, ok ? 'pass' : '**FAIL**', figures])), ''
  ]
  process.stdout.write(`${lines.join('\n')}\n`)
  await sse.app.close()
  await stateful.app.close()
  process.exitCode = checks.every(([, ok]) => ok) ? 0 : 1
}

main().catch((error: unknown) => {
  process.stderr.write(`Soak failed to run: ${(error as Error).stack ?? String(error)}\n`)
  process.exitCode = 1
})
