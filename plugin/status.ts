import type { Implementation } from './protocol/spec.js'

/** A read-only snapshot of the host, for /health and the built-in status tool. Holds no secrets. */
export interface McpStatus {
  status: 'ok' | 'draining'
  server: Implementation
  uptimeSeconds: number
  transports: { streamableHttp: boolean, sse: boolean }
  /** Open sessions: legacy SSE, and stateful Streamable HTTP when `streamable.sessions` is on. */
  sessions: { sse: number, streamableHttp?: number, listen: number }
  inFlight: number
  /** In cluster mode: this replica's name, whether Redis is reachable, and the sessions of the whole cluster. */
  cluster?: {
    replica: string
    redis: 'up' | 'down'
    sessions: { sse?: number, streamableHttp?: number }
  }
}
