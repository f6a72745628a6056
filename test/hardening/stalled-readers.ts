import { readFileSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import type { TestContext } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { waitUntil } from '../helpers/stateful-http.js'

/**
 * Clients that ask for an event stream and never read it, and ways to see what the server holds for them: its
 * side of each connection, and the bytes waiting in the kernel's socket queues.
 */

/**
 * Bytes waiting in the kernel's send and receive queues of every TCP socket on this machine with `port` at either
 * end: written by one side and not read by the other yet. Read from /proc/net/tcp (Linux); 0 where there is none.
 */
export function kernelQueuedBytes (port: number): number {
  let table: string
  try {
    table = readFileSync('/proc/net/tcp', 'latin1')
  } catch {
    return 0
  }
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0')
  let bytes = 0
  for (const line of table.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/)
    if (fields.length < 5) continue
    if (!fields[1].endsWith(`:${hexPort}`) && !fields[2].endsWith(`:${hexPort}`)) continue
    const [tx, rx] = fields[4].split(':')
    bytes += Number.parseInt(tx, 16) + Number.parseInt(rx, 16)
  }
  return bytes
}

/** The server's side of the connections it accepts from now on. */
export interface ServerSockets {
  /** Those still open. */
  open: () => Socket[]
  /** The server's side of a client's connection. */
  of: (client: Socket) => Socket | undefined
  /** Bytes written to open connections that still wait in the server's own buffers. */
  buffered: () => number
}

export function watchServerSockets (app: FastifyInstance): ServerSockets {
  const byClientPort = new Map<number, Socket>()
  app.server.on('connection', (socket: Socket) => { byClientPort.set(socket.remotePort ?? 0, socket) })
  const open = (): Socket[] => [...byClientPort.values()].filter((socket) => !socket.destroyed)
  return {
    open,
    of: (client) => byClientPort.get(client.localPort ?? 0),
    buffered: () => open().reduce((sum, socket) => sum + socket.writableLength, 0)
  }
}

/**
 * Opens a connection that never reads (the socket stays paused, so what the server sends waits in the kernel's
 * queues), sends a `GET /mcp` that resumes `lastEventId` of the session, and resolves once the server has written
 * to it or closed it. The connection is destroyed when the test ends.
 */
export async function resumeWithoutReading (
  t: TestContext, baseUrl: string, server: ServerSockets, sessionId: string, lastEventId: string, headers: Record<string, string>
): Promise<Socket> {
  const { hostname, port, host } = new URL(baseUrl)
  const client = connect({ port: Number(port), host: hostname })
  client.pause()
  client.on('error', () => { /* a reset is one of the outcomes under test */ })
  t.after(() => { client.destroy() })
  await new Promise<void>((resolve, reject) => { client.once('connect', resolve); client.once('error', reject) })
  const lines = Object.entries({ ...headers, accept: 'text/event-stream', 'mcp-session-id': sessionId, 'last-event-id': lastEventId })
    .map(([name, value]) => `${name}: ${value}\r\n`).join('')
  client.write(`GET /mcp HTTP/1.1\r\nHost: ${host}\r\n${lines}\r\n`)
  await waitUntil(`the server to answer the resume of ${lastEventId}`, () => {
    const side = server.of(client)
    return side !== undefined && (side.bytesWritten > 0 || side.destroyed)
  })
  return client
}
