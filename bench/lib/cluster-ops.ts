import http from 'node:http'
import { BENCH_TOKEN, expectedBody, toolsCallBody } from '../servers/common.js'
import { request, type SseClient } from './http.js'
import { openSession, waitForSessions } from './sse-ops.js'
import { sleep } from './stats.js'
import type { ServerChild } from './processes.js'

const POST_HEADERS = { 'content-type': 'application/json', authorization: `Bearer ${BENCH_TOKEN}` }

/** A legacy SSE session and the replica holding its stream. */
export interface HeldSession { client: SseClient, owner: ServerChild }

export interface Timed {
  /** From the POST going out to the answer arriving on the stream (ms). */
  event: number
  /** From the POST going out to its `202` (ms): what the poster waits for. */
  accepted: number
}

/**
 * One `tools/call` for `session`, POSTed to `postTo` (the owner, or another replica that relays it), answered on
 * the session's stream: both times, after checking the 202 and the answer's bytes.
 */
export async function timedRoundTrip (postTo: ServerChild, session: HeldSession, id: number, agent: http.Agent): Promise<Timed> {
  const started = performance.now()
  let eventAt = 0
  let acceptedAt = 0
  const answered = session.client.waitFor(id).then((message) => { eventAt = performance.now(); return message })
  const url = new URL(session.client.endpoint, postTo.baseUrl).href
  const posted = request(url, { method: 'POST', headers: POST_HEADERS, body: toolsCallBody(id, id, 1), agent })
    .then((answer) => { acceptedAt = performance.now(); return answer })
  const [message, answer] = await Promise.all([answered, posted])
  if (answer.status !== 202) throw new Error(`${postTo.name}: POST /messages for a session on ${session.owner.name} answered ${answer.status}: ${answer.body}`)
  if (JSON.stringify(message) !== expectedBody(id, id, 1)) throw new Error(`${postTo.name}: wrong answer on the stream: ${JSON.stringify(message)}`)
  return { event: eventAt - started, accepted: acceptedAt - started }
}

/** Opens `count` sessions, spread round-robin over `replicas`, ten at a time. */
export async function openSpread (replicas: ServerChild[], count: number): Promise<HeldSession[]> {
  const sessions: HeldSession[] = []
  for (let i = 0; i < count; i += 10) {
    const batch = await Promise.all(Array.from({ length: Math.min(10, count - i) }, async (_, j) => {
      const owner = replicas[(i + j) % replicas.length]
      return { client: (await openSession(owner)).client, owner }
    }))
    sessions.push(...batch)
  }
  for (const replica of replicas) {
    const expected = sessions.filter((s) => s.owner === replica).length
    if (await waitForSessions(replica, true, expected) !== expected) throw new Error(`${replica.name}: not all sessions registered`)
  }
  return sessions
}

/** Closes the sessions, alternately with a FIN and a RST, and waits until every replica counts none. */
export async function closeSpread (sessions: HeldSession[], replicas: ServerChild[]): Promise<void> {
  await Promise.all(sessions.map(async (s, i) => { await (i % 2 === 0 ? s.client.close() : s.client.destroy()) }))
  for (const replica of replicas) await waitForSessions(replica, true, 0)
}

/** The next replica after `owner` in the list: where a relayed message is posted. */
export function otherReplica (replicas: ServerChild[], owner: ServerChild): ServerChild {
  return replicas[(replicas.indexOf(owner) + 1) % replicas.length]
}

export interface ClusterChurnResult { sessions: number, seconds: number, retries: number, relayedRoundTrips: number }

/**
 * Opens and closes `count` sessions across the replicas (session i on replica i mod n), `concurrency` at a time;
 * every tenth makes one round trip posted to another replica (relayed) before closing; closes alternate between a
 * clean FIN and an abrupt RST.
 */
export async function clusterChurn (replicas: ServerChild[], count: number, concurrency = 50): Promise<ClusterChurnResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency })
  const started = performance.now()
  let next = 0
  let retries = 0
  let relayedRoundTrips = 0
  async function worker (): Promise<void> {
    while (next < count) {
      const i = next++
      const owner = replicas[i % replicas.length]
      const opened = await openSession(owner)
      retries += opened.retries
      if (i % 10 === 0) {
        await timedRoundTrip(otherReplica(replicas, owner), { client: opened.client, owner }, i + 1, agent)
        relayedRoundTrips++
      }
      await (i % 2 === 0 ? opened.client.close() : opened.client.destroy())
    }
  }
  try {
    await Promise.all(Array.from({ length: concurrency }, worker))
  } finally {
    agent.destroy()
  }
  return { sessions: count, seconds: (performance.now() - started) / 1000, retries, relayedRoundTrips }
}

/** Polls `read` until it returns `expected` or `timeoutMs` passed; resolves with the last value and the wait (ms). */
export async function waitForValue (read: () => Promise<number>, expected: number, timeoutMs = 10_000): Promise<{ value: number, waitedMs: number }> {
  const started = performance.now()
  for (;;) {
    const value = await read()
    const waitedMs = performance.now() - started
    if (value === expected || waitedMs > timeoutMs) return { value, waitedMs }
    await sleep(20)
  }
}
