import type { Readable, Writable } from 'node:stream'
import { protectStdout, type MessageOutput } from './stdout-guard.js'
export { protectStdout, type MessageOutput } from './stdout-guard.js'
import { classifyMessage, ErrorCode, failure, type JsonRpcMessage } from '../../protocol/jsonrpc.js'
import { LocalClientSession } from '../../protocol/client-session.js'
import type { CallEnv } from '../../protocol/call-env.js'
import type { Dispatcher } from '../../dispatch/dispatcher.js'
import type { Logger } from '../../protocol/logger.js'
import { checkEnvelope, declaresModernEra } from '../../protocol/modern/envelope.js'
import type { JsonRpcId, JsonRpcRequest } from '../../protocol/jsonrpc.js'

export interface StdioServerOptions {
  dispatcher: Dispatcher
  /** Where messages come from; default process.stdin. */
  input?: Readable
  /**
   * Where messages go; nothing else may be written to it. Default: process.stdout, reserved for the messages
   * (see protectStdout: anything else the process writes to process.stdout goes to stderr from then on).
   */
  output?: Writable | MessageOutput
  /** Must not write to `output`: log to stderr. */
  log: Logger
  /** A line longer than this is refused with a parse error and skipped. Default 4 MiB. */
  maxMessageBytes?: number
  /** How long requests still running when stdin closes may take to answer before they are aborted. Default 5 s. */
  closeGraceMs?: number
}

async function delay (ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms).unref())
}

export interface StdioServer {
  /** Resolves when the input has ended and every answer has been written. */
  readonly closed: Promise<void>
}

/**
 * MCP over stdio: one JSON-RPC message per line in each direction. The connection is one client session,
 * so server-to-client notifications and requests can be sent at any time.
 */
export function serveStdio (options: StdioServerOptions): StdioServer {
  const { dispatcher, log } = options
  const input = options.input ?? process.stdin
  const output = options.output ?? protectStdout()
  const maxMessageBytes = options.maxMessageBytes ?? 4 * 1024 * 1024
  const closeGraceMs = options.closeGraceMs ?? 5_000
  const ended = new AbortController()
  const pending = new Set<Promise<void>>()

  function send (message: JsonRpcMessage): void {
    if (!output.writable) return
    output.write(`${JSON.stringify(message)}\n`)
  }

  const session = new LocalClientSession(undefined, undefined, send)
  const env: CallEnv = { transport: 'stdio', auth: undefined, session, log, signal: ended.signal, notify: send }
  const detach = dispatcher.attachSession(session)
  /** 2026-era `subscriptions/listen` requests still open, by request id; a `notifications/cancelled` ends one. */
  const listens = new Map<JsonRpcId, () => void>()

  function listen (request: JsonRpcRequest): void {
    const envelope = checkEnvelope(request)
    if ('jsonrpc' in envelope) {
      send(envelope)
      return
    }
    const subscription = dispatcher.listen(request, send)
    listens.set(request.id, subscription.close)
    send(subscription.acknowledgement)
  }

  function handleLine (line: string): void {
    if (line.trim() === '') return
    let value: unknown
    try {
      value = JSON.parse(line)
    } catch {
      send(failure(null, ErrorCode.ParseError, 'Parse error: each line on stdin must be one JSON-RPC message'))
      return
    }
    const classified = classifyMessage(value)
    switch (classified.kind) {
      case 'invalid':
        send(failure(classified.id, ErrorCode.InvalidRequest, `Invalid Request: ${classified.reason}`))
        return
      case 'notification': {
        const cancelled = classified.message.method === 'notifications/cancelled' ? classified.message.params?.requestId : undefined
        if ((typeof cancelled === 'string' || typeof cancelled === 'number') && listens.has(cancelled)) {
          listens.get(cancelled)?.()
          listens.delete(cancelled)
        }
        dispatcher.handleNotification(classified.message, env)
        return
      }
      case 'response':
        if (!dispatcher.handleResponse(classified.message, env)) log.debug({ id: classified.message.id }, 'Ignored a response nobody waited for')
        return
      case 'request': {
        if (classified.message.method === 'subscriptions/listen' && declaresModernEra(classified.message)) {
          listen(classified.message)
          return
        }
        const work = Promise.resolve(dispatcher.handleRequest(classified.message, env))
          .then((response) => { if (response !== undefined) send(response) })
        pending.add(work)
        void work.finally(() => pending.delete(work))
      }
    }
  }

  let buffered = ''
  let skipping = false
  input.setEncoding('utf8')
  input.on('data', (chunk: string) => {
    let start = 0
    let newline = chunk.indexOf('\n')
    while (newline !== -1) {
      const line = buffered + chunk.slice(start, newline)
      buffered = ''
      if (skipping) skipping = false
      else handleLine(line)
      start = newline + 1
      newline = chunk.indexOf('\n', start)
    }
    if (skipping) return
    buffered += chunk.slice(start)
    if (buffered.length > maxMessageBytes) {
      log.warn({ limitBytes: maxMessageBytes }, 'Refused an oversized stdin message')
      send(failure(null, ErrorCode.ParseError, `Parse error: message longer than ${maxMessageBytes} bytes`))
      buffered = ''
      skipping = true
    }
  })

  const closed = new Promise<void>((resolve) => {
    input.once('close', resolve)
    input.once('end', resolve)
  }).then(async () => {
    if (!skipping && buffered.trim() !== '') handleLine(buffered)
    // Answers to requests already read are still written (for `echo ... | server`), but a handler waiting on the
    // client, which can no longer answer, is not waited for beyond the grace period.
    detach()
    for (const close of listens.values()) close()
    await Promise.race([Promise.allSettled([...pending]), delay(closeGraceMs)])
    ended.abort(new Error('stdin closed'))
  })

  return { closed }
}
