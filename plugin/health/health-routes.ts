import type { FastifyInstance } from 'fastify'
import type { McpStatus } from '../status.js'

export interface HealthRouteOptions {
  status: () => McpStatus
  /** Present when the legacy SSE transport is on. */
  sseStatus?: () => { sessions: number, maxSessions: number, idleTimeoutMs: number, clusterSessions?: number }
}

const DRAIN_RETRY_AFTER_SECONDS = '5'

/** `GET /health` for load balancers (503 while draining) and `GET /health/sse` for monitoring. No auth. */
export async function healthRoutes (app: FastifyInstance, options: HealthRouteOptions): Promise<void> {
  app.get('/health', async function health (_request, reply) {
    const status = options.status()
    if (status.status === 'draining') reply.code(503).header('retry-after', DRAIN_RETRY_AFTER_SECONDS)
    return status
  })

  const sseStatus = options.sseStatus
  if (sseStatus !== undefined) {
    app.get('/health/sse', async function healthSse () {
      return sseStatus()
    })
  }
}
