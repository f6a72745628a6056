import { connect, type Socket } from 'node:net'
import { request } from '../bench/lib/http.js'
import { sleep } from '../bench/lib/stats.js'
import { SseSession } from './soak-sse-session.js'

/**
 * The attacker of `npm run soak`'s last run (issue 17): forked beside the honest clients, with a token of its own,
 * for `durationMs` it trickles request bodies on many connections, opens legacy SSE sessions without end, and
 * floods each session it gets with resource subscriptions. It reports what the server let it have.
 */
export interface AttackArgs { base: string, token: string, durationMs: number, slowBodies: number, subscriptionsPerSession: number }
export interface AttackResult {
  slowBodies: { opened: number, openAtEnd: number }
  sessions: { attempts: number, accepted: number, refused: Record<string, number>, mostOpen: number }
  subscriptions: { sent: number, accepted: number, refused: number, mostPerSession: number }
}

/** A POST whose body says 1 MB and arrives one byte a second. */
async function slowBody (base: string, token: string): Promise<Socket> {
  const { hostname, port } = new URL(base)
  const socket = connect({ host: hostname, port: Number(port) })
  socket.on('error', () => {})
  socket.resume()
  await new Promise<void>((resolve) => { socket.once('connect', resolve); socket.once('close', () => { resolve() }) })
  socket.write(`POST /mcp HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\n` +
    'Accept: application/json, text/event-stream\r\nContent-Length: 1000000\r\n\r\n{')
  const drip = setInterval(() => { if (!socket.destroyed) socket.write(' ') }, 1000)
  socket.once('close', () => { clearInterval(drip) })
  return socket
}

async function attack (args: AttackArgs): Promise<AttackResult> {
  const started = performance.now()
  const running = (): boolean => performance.now() - started < args.durationMs
  const result: AttackResult = {
    slowBodies: { opened: 0, openAtEnd: 0 },
    sessions: { attempts: 0, accepted: 0, refused: {}, mostOpen: 0 },
    subscriptions: { sent: 0, accepted: 0, refused: 0, mostPerSession: 0 }
  }
  const sockets: Socket[] = []
  for (let i = 0; i < args.slowBodies; i++) {
    sockets.push(await slowBody(args.base, args.token))
    result.slowBodies.opened++
  }

  const sessions: SseSession[] = []
  let open = 0
  const floodSubscriptions = async (session: SseSession): Promise<void> => {
    const url = new URL(session.endpoint, args.base).href
    let accepted = 0
    session.onMessage = (message: any) => {
      if (typeof message?.id !== 'string' || !message.id.startsWith('sub:')) return
      if (message.error === undefined) {
        result.subscriptions.accepted++
        result.subscriptions.mostPerSession = Math.max(result.subscriptions.mostPerSession, ++accepted)
      } else {
        result.subscriptions.refused++
      }
    }
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${args.token}` }
    await request(url, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id: 'init', method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'attacker', version: '1' } } }) })
    await request(url, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) })
    // Serially, as fast as the server answers, until the cap says no a few times.
    const before = result.subscriptions.refused
    for (let i = 0; i < args.subscriptionsPerSession && running() && result.subscriptions.refused - before < 5; i++) {
      result.subscriptions.sent++
      const body = JSON.stringify({ jsonrpc: '2.0', id: `sub:${i}`, method: 'resources/subscribe', params: { uri: `soak://${session.sessionId}-${i}-${'x'.repeat(200)}` } })
      await request(url, { method: 'POST', headers, body }).catch(() => {})
    }
  }
  // Sessions: one more every 20 ms while they are granted, every 200 ms once refused; kept open.
  const floods: Array<Promise<void>> = []
  while (running()) {
    result.sessions.attempts++
    let pause = 20
    try {
      const session = await new SseSession().open(args.base, args.token)
      sessions.push(session)
      result.sessions.accepted++
      result.sessions.mostOpen = Math.max(result.sessions.mostOpen, ++open)
      session.closed.then(() => { open-- }, () => {})
      floods.push(floodSubscriptions(session).catch(() => {}))
    } catch (error) {
      const status = /answered (\d+)/.exec(String(error))?.[1] ?? 'error'
      result.sessions.refused[status] = (result.sessions.refused[status] ?? 0) + 1
      pause = 200
    }
    await sleep(pause)
  }
  await Promise.all(floods)
  result.slowBodies.openAtEnd = sockets.filter((socket) => !socket.destroyed).length
  for (const socket of sockets) socket.destroy()
  await Promise.all(sessions.map(async (session) => { await session.close(true) }))
  return result
}

const args = JSON.parse(process.argv[2]) as AttackArgs
const result = await attack(args)
process.send?.(result)
