declare module 'fastify' {
  interface FastifyContextConfig {
    /** Read by fastify-metrics: the route stays out of its HTTP duration histogram and summary. */
    disableMetrics?: boolean
  }
}

/**
 * Options of the routes whose answer is a long-lived stream (legacy `GET /sse`, a stateful session's `GET /mcp`).
 * No automatic HEAD route: a HEAD would open a stream and drop it at once. `disableMetrics` keeps them out of
 * HTTP-duration histograms (fastify-metrics honours it), which would read a stream's lifetime as latency; the
 * streams have their own series (docs/observability.md).
 */
export const STREAM_ROUTE = { exposeHeadRoute: false, config: { disableMetrics: true } }
