import type { Socket } from 'node:net'
import type { FastifyReply, FastifyRequest } from 'fastify'

/** How long a refused client may go on sending (its answer is already written) before the connection is cut. */
export const LINGER_MS = 2_000

/**
 * Closes our side of a connection (FIN once everything written is flushed), then reads and discards what the
 * client still sends until it closes too, or `ms` passes. Destroying a socket with unread bytes makes the kernel
 * answer with a reset, and a reset can wipe an answer the client has received but not read yet: this is nginx's
 * lingering close. Data is discarded by whoever reads the socket (Node's HTTP parser), or by flowing mode.
 */
export function lingeringClose (socket: Socket, ms = LINGER_MS): void {
  if (socket.destroyed) return
  const timer = setTimeout(() => { socket.destroy() }, ms)
  timer.unref()
  socket.once('close', () => { clearTimeout(timer) })
  if (!socket.writableEnded) socket.end()
  socket.resume()
}

/**
 * For a refusal sent before the request's body has fully arrived (a 413 on Content-Length, a 401 or 403 while
 * the body is still coming): the answer asks the client to close (`Connection: close`), and once it is written
 * the connection lingers instead of being destroyed at once, so that a client still sending reads the refusal
 * rather than a reset. A request whose body has arrived keeps its keep-alive connection.
 */
export function closeGentlyAfterRefusal (request: FastifyRequest, reply: FastifyReply): void {
  if (request.raw.complete) return
  reply.header('connection', 'close')
  // Node ends a `Connection: close` response's socket with destroySoon() (end, then destroy once flushed).
  const socket = request.raw.socket as Socket & { destroySoon?: () => void }
  socket.destroySoon = function destroyAfterLingering () { lingeringClose(socket) }
}

/**
 * Sends a refusal from an onRequest hook, which runs as soon as the headers are parsed: a body that came in the
 * same packet is parsed only after the hook returns, so whether it is still coming is judged on the next turn of
 * the event loop (a keep-alive client that sent a whole small request keeps its connection).
 */
export function sendEarlyRefusal (request: FastifyRequest, reply: FastifyReply, send: () => void): void {
  if (request.raw.complete) {
    send()
    return
  }
  setImmediate(() => {
    closeGentlyAfterRefusal(request, reply)
    send()
  })
}
