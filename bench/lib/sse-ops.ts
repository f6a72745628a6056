import http from 'node:http'
import { BENCH_TOKEN, expectedBody, toolsCallBody } from '../servers/common.js'
import { request, SseClient } from './http.js'
import { sleep } from './stats.js'
import type { ServerChild } from './processes.js'

const AUTH = { authorization: `Bearer ${BENCH_TOKEN}` }
const POST_HEADERS = { 'content-type': 'application/json', ...AUTH }

/** Opens one legacy SSE session; a 503 (all sessions in use, closes not landed yet) is retried briefly. */
export async function openSession (server: ServerChild): Promise<{ client: SseClient, retries: number }> {
  for (let retries = 0; ; retries++) {
    try {
      return { client: await SseClient.open(server.baseUrl, AUTH), retries }
    } catch (error) {
      if ((error as { status?: number }).status !== 503 || retries >= 200) throw error
      await sleep(5)
    }
  }
}

export async function openSessions (server: ServerChild, count: number): Promise<SseClient[]> {
  const clients: SseClient[] = []
  // A few at a time, as clients arrive; all of them open at the end.
  for (let i = 0; i < count; i += 10) {
    const batch = await Promise.all(Array.from({ length: Math.min(10, count - i) }, async () => (await openSession(server)).client))
    clients.push(...batch)
  }
  return clients
}

/** Closes the sessions, alternately with a FIN and a RST. */
export async function closeSessions (clients: SseClient[]): Promise<void> {
  await Promise.all(clients.map(async (client, i) => { await (i % 2 === 0 ? client.close() : client.destroy()) }))
}

/**
 * One `tools/call` posted to the session's message endpoint and answered on its stream: the time (ms) from the
 * POST going out to the matching `event: message` arriving, after checking the 202 and the result bytes.
 */
export async function roundTrip (server: ServerChild, client: SseClient, id: number, agent: http.Agent): Promise<number> {
  const started = performance.now()
  let answeredAt = 0
  const answered = client.waitFor(id).then((message) => { answeredAt = performance.now(); return message })
  const posted = request(new URL(client.endpoint, server.baseUrl).href, { method: 'POST', headers: POST_HEADERS, body: toolsCallBody(id, id, 1), agent })
  const [message, answer] = await Promise.all([answered, posted])
  if (answer.status !== 202) throw new Error(`${server.name}: POST /messages answered ${answer.status}: ${answer.body}`)
  if (JSON.stringify(message) !== expectedBody(id, id, 1)) throw new Error(`${server.name}: wrong answer on the stream: ${JSON.stringify(message)}`)
  return answeredAt - started
}

/** Open sessions as the server counts them: /health/sse for ours (as a monitor would see it), IPC otherwise. */
export async function sessionCount (server: ServerChild, viaHealth: boolean): Promise<number> {
  if (!viaHealth) return await server.sessions()
  const answer = await request(`${server.baseUrl}/health/sse`)
  return (JSON.parse(answer.body) as { sessions: number }).sessions
}

/** Waits until the server has seen every stream close; resolves with the count left when it gave up. */
export async function waitForSessions (server: ServerChild, viaHealth: boolean, expected: number, timeoutMs = 10_000): Promise<number> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const count = await sessionCount(server, viaHealth)
    if (count === expected || Date.now() > deadline) return count
    await sleep(20)
  }
}

export interface ChurnResult { sessions: number, seconds: number, retries: number, roundTrips: number }

/**
 * Opens and closes `count` sessions, `concurrency` at a time; every tenth makes one round trip first; closes
 * alternate between a clean FIN and an abrupt RST.
 */
export async function churn (server: ServerChild, count: number, concurrency = 50): Promise<ChurnResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency })
  const started = performance.now()
  let next = 0
  let retries = 0
  let roundTrips = 0
  async function worker (): Promise<void> {
    while (next < count) {
      const i = next++
      const opened = await openSession(server)
      retries += opened.retries
      if (i % 10 === 0) {
        await roundTrip(server, opened.client, i + 1, agent)
        roundTrips++
      }
      await (i % 2 === 0 ? opened.client.close() : opened.client.destroy())
    }
  }
  try {
    await Promise.all(Array.from({ length: concurrency }, worker))
  } finally {
    agent.destroy()
  }
  return { sessions: count, seconds: (performance.now() - started) / 1000, retries, roundTrips }
}
