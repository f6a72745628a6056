/**
 * What every bench server and client agrees on: the token, the benchmarked request and the exact result bytes.
 * Imported by the ceiling servers, so it must stay free of heavy imports (no Fastify, no TypeBox).
 */
export const BENCH_TOKEN = 'bench-token-0123456789abcdef0123456789abcdef'

/** The benchmarked call: the `add` tool, structured output `{ sum }`. */
export function toolsCallBody (id: number | string, a = 2, b = 3): string {
  return JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'add', arguments: { a, b } } })
}

/** The JSON-RPC result our plugin returns for `add` (text content echoing the structured content). */
export function addResult (id: unknown, a: number, b: number): Record<string, unknown> {
  const structured = { sum: a + b }
  return {
    jsonrpc: '2.0',
    id,
    result: { content: [{ type: 'text', text: JSON.stringify(structured) }], structuredContent: structured }
  }
}

/** The exact response body expected for `toolsCallBody(id, a, b)`. */
export function expectedBody (id: number | string, a = 2, b = 3): string {
  return JSON.stringify(addResult(id, a, b))
}

/** Headers a Streamable HTTP client sends; both our server and the ceiling get all of them. */
export const MCP_POST_HEADERS: Record<string, string> = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2025-06-18',
  authorization: `Bearer ${BENCH_TOKEN}`
}

/** The MCP revision a benchmarked request speaks: the 2025 era (stateless) or 2026-07-28. */
export type Era = '2025' | '2026'

export const MODERN_VERSION = '2026-07-28'
const MODERN_META = { 'io.modelcontextprotocol/protocolVersion': MODERN_VERSION, 'io.modelcontextprotocol/clientCapabilities': {} }
/** What our plugin says about itself in every 2026 result (its default serverInfo). */
export const MODERN_SERVER_META = { 'io.modelcontextprotocol/serverInfo': { name: 'fastify-mcp-host', version: '0.1.0' } }

/** The same `add` call as a 2026-07-28 client sends it: the envelope in `_meta`, method and name in headers too. */
export function modernCallBody (id: number | string, a = 2, b = 3): string {
  return JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'add', arguments: { a, b }, _meta: MODERN_META } })
}

export const MODERN_POST_HEADERS: Record<string, string> = {
  ...MCP_POST_HEADERS,
  'mcp-protocol-version': MODERN_VERSION,
  'mcp-method': 'tools/call',
  'mcp-name': 'add'
}

/** The 2026 result: the same content, `resultType` and the server's `_meta`. */
export function modernAddResult (id: unknown, a: number, b: number): Record<string, unknown> {
  const legacy = addResult(id, a, b) as { result: Record<string, unknown> }
  return { ...legacy, result: { ...legacy.result, resultType: 'complete', _meta: MODERN_SERVER_META } }
}

/** One benchmarked call: what is sent and the exact bytes expected back. */
export interface BenchCall { era: Era, headers: Record<string, string>, body: string, expected: string }

export function benchCall (era: Era, token = BENCH_TOKEN): BenchCall {
  const authorization = `Bearer ${token}`
  return era === '2025'
    ? { era, headers: { ...MCP_POST_HEADERS, authorization }, body: toolsCallBody(1), expected: expectedBody(1) }
    : { era, headers: { ...MODERN_POST_HEADERS, authorization }, body: modernCallBody(1), expected: JSON.stringify(modernAddResult(1, 2, 3)) }
}

/** Messages of the control channel between the bench and a server child (child_process IPC). */
export type ControlRequest =
  | { seq: number, type: 'gc' }
  | { seq: number, type: 'sessions' }
  | { seq: number, type: 'cpu' }
  | { seq: number, type: 'exit' }

export interface MemoryReport { rss: number, heapUsed: number, heapTotal: number, external: number, arrayBuffers: number }

/**
 * Answers the bench's control requests: forced GC + memory, open session count, CPU time, orderly exit (which
 * lets `--cpu-prof` write its profile). Does nothing when the process was not started with an IPC channel.
 */
export function serveControl (sessions: () => number, close: () => Promise<void>): void {
  if (typeof process.send !== 'function') return
  process.on('message', (message: ControlRequest) => {
    void handle(message).then((body) => { process.send?.({ seq: message.seq, ...body }) })
  })
  // The bench going away must take the server with it.
  process.on('disconnect', () => { process.exit(0) })

  async function handle (message: ControlRequest): Promise<Record<string, unknown>> {
    switch (message.type) {
      case 'gc': return { memory: await gcAndMeasure() }
      case 'sessions': return { sessions: sessions() }
      case 'cpu': {
        const cpu = process.cpuUsage()
        // monoUs: the monotonic clock of V8's CPU profiles, to cut a --cpu-prof profile to the measured window.
        return { cpuMicros: cpu.user + cpu.system, at: performance.now(), monoUs: Number(process.hrtime.bigint() / 1000n) }
      }
      case 'exit':
        setImmediate(() => { void close().finally(() => { process.exit(0) }) })
        return { exiting: true }
    }
  }
}

const gc = (globalThis as { gc?: () => void }).gc

/** Full GCs until the heap stops shrinking (needs --expose-gc), then the memory figures. */
export async function gcAndMeasure (): Promise<MemoryReport> {
  if (gc !== undefined) {
    let last = Infinity
    for (let i = 0; i < 8; i++) {
      gc()
      await new Promise((resolve) => setTimeout(resolve, 10))
      const used = process.memoryUsage().heapUsed
      if (i >= 2 && used >= last) break
      last = used
    }
  }
  const { rss, heapUsed, heapTotal, external, arrayBuffers } = process.memoryUsage()
  return { rss, heapUsed, heapTotal, external, arrayBuffers }
}

/** Printed once on stdout by every server child, so that plain spawns (cold start) find the address too. */
export function announce (address: string): void {
  process.stdout.write(`${JSON.stringify({ msg: 'bench server listening', address })}\n`)
  process.send?.({ seq: 0, ready: true, address })
}
