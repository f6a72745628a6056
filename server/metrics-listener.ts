import { createServer, type Server } from 'node:http'
import type { FastifyBaseLogger } from 'fastify'
import type { MetricsRegistry } from '../plugin/index.js'
import { ConfigError } from './config-error.js'

/**
 * `GET /metrics` on a listener of its own (MCP_METRICS_PORT, loopback by default): the MCP port never serves
 * metrics, so they need no auth there and cannot leak to MCP clients. Anything else gets 404.
 */
export async function listenForMetrics (registry: MetricsRegistry, host: string, port: number, log: FastifyBaseLogger): Promise<Server> {
  const server = createServer((request, response) => {
    const path = (request.url ?? '').split('?', 1)[0]
    if (request.method !== 'GET' || path !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('Not found: metrics are at GET /metrics\n')
      return
    }
    registry.metrics().then((text) => {
      response.writeHead(200, { 'content-type': registry.contentType }).end(text)
    }, (error: unknown) => {
      log.error({ err: error }, 'Metrics could not be collected')
      response.writeHead(500, { 'content-type': 'text/plain' }).end('Metrics could not be collected; the failure was logged\n')
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(error.code === 'EADDRINUSE'
        ? new ConfigError(`Cannot serve metrics on ${host}:${port}: the port is in use; pick another with MCP_METRICS_PORT`)
        : error)
    })
    server.listen(port, host, () => { resolve() })
  })
  server.unref()
  const address = server.address() as { port: number }
  log.info({ address: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}/metrics` }, 'Metrics listening')
  return server
}
