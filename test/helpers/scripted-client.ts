import type { TestContext } from 'node:test'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js'
import {
  CreateMessageRequestSchema, ElicitRequestSchema, ListRootsRequestSchema,
  type CreateMessageResult, type ElicitRequest, type ElicitResult
} from '@modelcontextprotocol/sdk/types.js'
import { REPO_ROOT } from './spawn-server.js'

/** The roots every scripted client reports. */
export const CLIENT_ROOTS = [{ uri: 'file:///work/project', name: 'project' }, { uri: 'file:///work/docs', name: 'docs' }]

/** How a scripted client answers the server's questions; each may wait (a test decides when the user answers). */
export interface ClientAnswers {
  elicit?: (request: ElicitRequest['params']) => ElicitResult | Promise<ElicitResult>
}

/** A notification as it reached the client (progress is the SDK's own business and is not listed). */
export interface SeenNotification {
  method: string
  params: any
}

/** An SDK 1.x client that declares elicitation, sampling and roots, answers them, and records what the server sent. */
export interface ScriptedClient {
  client: Client
  /** The server-to-client requests the client was asked, in order: their methods. */
  asked: string[]
  /** Every notification that reached the client, in order. */
  notifications: SeenNotification[]
  /** Resolves with the first notification of `method` (already seen, or still to come) that satisfies `matches`. */
  nextNotification: (method: string, matches?: (notification: SeenNotification) => boolean) => Promise<SeenNotification>
  /** The notifications of one method seen so far. */
  seen: (method: string) => SeenNotification[]
}

/**
 * Answers elicitation with the name Ada, sampling with a made-up model's summary of the prompt, roots with
 * CLIENT_ROOTS.
 */
export async function connectScripted (t: TestContext, transport: Transport, answers: ClientAnswers = {}): Promise<ScriptedClient> {
  const client = new Client({ name: 'server-to-client-tests', version: '1.0.0' }, {
    capabilities: { elicitation: { form: {} }, sampling: {}, roots: { listChanged: true } }
  })
  const asked: string[] = []
  const notifications: SeenNotification[] = []
  const waiters: Array<{ method: string, matches: (n: SeenNotification) => boolean, resolve: (n: SeenNotification) => void }> = []

  client.setRequestHandler(ElicitRequestSchema, async (request) => {
    asked.push(request.method)
    return await (answers.elicit?.(request.params) ?? { action: 'accept', content: { name: 'Ada' } })
  })
  client.setRequestHandler(CreateMessageRequestSchema, async (request): Promise<CreateMessageResult> => {
    asked.push(request.method)
    const prompt = request.params.messages.map((message) => (message.content as { text?: string }).text ?? '').join(' ')
    return { role: 'assistant', model: 'test-model', stopReason: 'endTurn', content: { type: 'text', text: prompt.replace(/^Summarize: /, 'in short, ') } }
  })
  client.setRequestHandler(ListRootsRequestSchema, async (request) => {
    asked.push(request.method)
    return { roots: CLIENT_ROOTS }
  })
  client.fallbackNotificationHandler = async (notification) => {
    const seen = { method: notification.method, params: notification.params }
    notifications.push(seen)
    for (const waiter of [...waiters]) {
      if (waiter.method !== seen.method || !waiter.matches(seen)) continue
      waiters.splice(waiters.indexOf(waiter), 1)
      waiter.resolve(seen)
    }
  }

  await client.connect(transport)
  t.after(async () => { await client.close() })
  return {
    client,
    asked,
    notifications,
    seen: (method) => notifications.filter((notification) => notification.method === method),
    nextNotification: async (method, matches = () => true) => {
      const already = notifications.find((notification) => notification.method === method && matches(notification))
      if (already !== undefined) return already
      return await new Promise((resolve) => { waiters.push({ method, matches, resolve }) })
    }
  }
}

const bearer = (token: string | undefined): Record<string, string> => token === undefined ? {} : { authorization: `Bearer ${token}` }

/** Streamable HTTP (stateless or stateful: the server decides) to `url`, with the token if given. */
export function httpTransport (url: string, token?: string): StreamableHTTPClientTransport {
  return new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: bearer(token) } })
}

/** The legacy HTTP+SSE transport to `url` (the `/sse` endpoint), with the token on the stream and on every POST. */
export function sseTransport (url: string, token?: string): SSEClientTransport {
  const headers = bearer(token)
  return new SSEClientTransport(new URL(url), {
    requestInit: { headers },
    eventSourceInit: { fetch: async (input, init) => await fetch(input, { ...init, headers: { ...init?.headers, ...headers } }) }
  })
}

/** Spawns `node <args>` from the repository root and speaks MCP over its stdin and stdout. */
export function stdioTransport (args: string[]): StdioClientTransport {
  return new StdioClientTransport({ command: process.execPath, args, cwd: REPO_ROOT, stderr: 'pipe' })
}

/** Lets the notifications that arrived before a result reach their handlers (they run a microtask later). */
export async function afterDelivery (): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve))
}

/**
 * Options for a test that waits for messages: one that never comes (a transport that drops it) fails that test
 * after 30 s instead of hanging its whole file. Not a speed limit: every wait here takes well under a second.
 */
export const HANG_GUARD = { timeout: 30_000 }
