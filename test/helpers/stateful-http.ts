import type { TestContext } from 'node:test'
import Fastify from 'fastify'
import mcpPlugin, { type McpPluginOptions } from '../../plugin/index.js'
import { AUTH_HEADER, TOKEN, type RunningApp } from './app.js'
import { MCP_HEADERS, post, rpc, INITIALIZE_PARAMS, type RawResponse } from './raw-http.js'
import { statefulResources, statefulTools } from './stateful-tools.js'
import { SseReader } from './sse-reader.js'

/**
 * The plugin with `streamable.sessions` on, the stateful test tools and a resource; closed when the test ends.
 * `warnings` collects the messages the app logs at warn level and above.
 * Closing cuts every connection: fetch opens a spare socket after a stream is aborted, which an idle-only close
 * would wait a minute for.
 */
export async function startStatefulApp (
  t: TestContext,
  streamable: McpPluginOptions['streamable'] = {},
  options: Partial<McpPluginOptions> = {}
): Promise<RunningApp & { mcpUrl: string, warnings: string[] }> {
  const warnings: string[] = []
  const stream = { write (line: string) { warnings.push(JSON.parse(line).msg as string) } }
  const app = Fastify({ logger: { level: 'warn', stream }, forceCloseConnections: true })
  await app.register(mcpPlugin, {
    auth: { tokens: [TOKEN] },
    tools: statefulTools,
    resources: statefulResources,
    ...options,
    streamable: { sessions: true, ...streamable }
  } as McpPluginOptions)
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.after(async () => { await app.close() })
  const baseUrl = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
  return { app, baseUrl, mcpUrl: `${baseUrl}/mcp`, warnings }
}

/** A raw session: its id, and a POST that carries it. */
export interface RawSession {
  id: string
  post: (body: unknown, headers?: Record<string, string>) => Promise<RawResponse>
}

/** Sends `initialize` (and `notifications/initialized`) and returns the session it started. */
export async function initializeSession (mcpUrl: string, headers: Record<string, string> = AUTH_HEADER): Promise<RawSession> {
  const response = await post(mcpUrl, rpc('initialize', INITIALIZE_PARAMS, 0), headers)
  const id = response.headers.get('mcp-session-id')
  if (response.status !== 200 || id === null) throw new Error(`initialize answered ${response.status} without a session: ${response.text}`)
  const session: RawSession = {
    id,
    post: async (body, extra = headers) => await post(mcpUrl, body, { ...extra, 'mcp-session-id': id })
  }
  await session.post({ jsonrpc: '2.0', method: 'notifications/initialized' })
  return session
}

/** An open event stream (a POST answer or a GET), which the test can drop as a client that goes away would. */
export interface OpenStream {
  response: Response
  status: number
  headers: Headers
  /** Reads the body as events; made on first use, so a test may read a refusal's body with `response.json()`. */
  readonly reader: SseReader
  /** Drops the connection. */
  disconnect: () => void
}

/** Sends a request whose answer is read as an event stream; the connection is dropped when the test ends. */
export async function openStream (t: TestContext, url: string, init: RequestInit): Promise<OpenStream> {
  const controller = new AbortController()
  t.after(() => { controller.abort() })
  const response = await fetch(url, { ...init, signal: controller.signal })
  let reader: SseReader | undefined
  return {
    response,
    status: response.status,
    headers: response.headers,
    get reader () { return (reader ??= new SseReader(response)) },
    disconnect: () => { controller.abort() }
  }
}

/** `GET /mcp` for a session, with `Last-Event-ID` when given. */
export async function getStream (
  t: TestContext, mcpUrl: string, sessionId: string, lastEventId?: string, headers: Record<string, string> = AUTH_HEADER
): Promise<OpenStream> {
  const extra: Record<string, string> = lastEventId === undefined ? {} : { 'last-event-id': lastEventId }
  return await openStream(t, mcpUrl, { headers: { ...headers, accept: 'text/event-stream', 'mcp-session-id': sessionId, ...extra } })
}

/** POSTs a request in a session and reads the answer as a stream. */
export async function postStream (
  t: TestContext, mcpUrl: string, sessionId: string, body: unknown, headers: Record<string, string> = AUTH_HEADER
): Promise<OpenStream> {
  return await openStream(t, mcpUrl, {
    method: 'POST',
    headers: { ...MCP_HEADERS, ...headers, 'mcp-session-id': sessionId },
    body: JSON.stringify(body)
  })
}

/** Polls until `check` holds, or fails after `timeoutMs` (generous: these wait for the server, not measure it). */
export async function waitUntil (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
