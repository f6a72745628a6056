import http from 'node:http'
import { Writable } from 'node:stream'
import Fastify, { type FastifyInstance } from 'fastify'
import mcpPlugin, { type McpPluginOptions } from '../../plugin/index.js'
import type { OAuthOptions } from '../../plugin/auth/oauth/oauth-options.js'
import oauthFixture from '../fixtures/oauth-tools.js'

export interface OAuthApp {
  app: FastifyInstance
  /** `http://127.0.0.1:<port>` */
  origin: string
  /** The resource URI the server was configured with (`<origin>/mcp` unless a test chose another). */
  resource: string
  /** The JSON log lines written so far. */
  logs: () => Array<Record<string, unknown>>
}

export interface OAuthAppOptions {
  oauth?: Partial<OAuthOptions>
  plugin?: Partial<McpPluginOptions>
  /** Path of the resource URI after the origin; default `/mcp`. */
  resourcePath?: string
  prefix?: string
  /** A port to listen on (one a previous app had, so that tokens for its resource URI still fit); default: a free one. */
  port?: number
  /** Static tokens beside OAuth. */
  tokens?: Array<{ token: string, id: string }>
  /** Registers routes after the plugin (so that its route bridge sees those marked `config.mcp`). */
  routes?: (app: FastifyInstance) => void
}

/**
 * The plugin in OAuth mode in a Fastify app on a loopback port, serving the OAuth fixture (scoped tools, a
 * resource template and a prompt). The resource URI names the port, so the port is picked before the plugin is
 * registered. Closed when the test ends.
 */
export async function startOAuthApp (t: { after: (cleanup: () => Promise<void>) => void }, issuer: string, options: OAuthAppOptions = {}): Promise<OAuthApp> {
  const port = options.port ?? await freePort()
  const origin = `http://127.0.0.1:${port}`
  const resource = `${origin}${options.resourcePath ?? '/mcp'}`
  const lines: string[] = []
  const stream = new Writable({ write (chunk, _encoding, callback) { lines.push(String(chunk)); callback() } })
  const app = Fastify({ logger: { level: 'info', stream } })
  await app.register(mcpPlugin, {
    ...oauthFixture,
    auth: { tokens: options.tokens, oauth: { issuer, resource, jwksCooldownMs: 0, clockToleranceSeconds: 0, ...options.oauth } },
    ...options.plugin,
    prefix: options.prefix
  } as McpPluginOptions)
  options.routes?.(app)
  await app.listen({ port, host: '127.0.0.1' })
  t.after(async () => { await app.close() })
  return {
    app,
    origin,
    resource,
    logs: () => lines.flatMap((line) => line.split('\n')).filter((line) => line !== '').map((line) => JSON.parse(line) as Record<string, unknown>)
  }
}

/** A loopback port free right now (listened on and released). */
export async function freePort (): Promise<number> {
  const probe = Fastify()
  await probe.listen({ port: 0, host: '127.0.0.1' })
  const { port } = probe.server.address() as { port: number }
  await probe.close()
  return port
}

/** The parameters of a `WWW-Authenticate: Bearer a="b", c="d"` header. */
export function challengeParams (header: string | null): Record<string, string> {
  if (header === null) throw new Error('no WWW-Authenticate header')
  if (!header.startsWith('Bearer')) throw new Error(`not a Bearer challenge: ${header}`)
  const params: Record<string, string> = {}
  for (const match of header.matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/g)) params[match[1]] = match[2].replace(/\\(.)/g, '$1')
  return params
}

/**
 * One HTTP request through node:http, for what fetch will not send: a forged Host, a header twice. `headers` is a
 * flat list of name/value pairs, so a name may repeat.
 */
export async function rawRequest (url: string, method: string, headers: Array<[string, string]>, body?: string): Promise<{ status: number, headers: http.IncomingHttpHeaders, json: any }> {
  const target = new URL(url)
  // With a list of headers Node adds no Host of its own, and servers answer a request without one with 400.
  const all = headers.some(([name]) => name.toLowerCase() === 'host') ? headers : [['host', target.host] as [string, string], ...headers]
  return await new Promise((resolve, reject) => {
    const outgoing = http.request({ host: target.hostname, port: target.port, path: `${target.pathname}${target.search}`, method, headers: all.flat(), agent: false }, (incoming) => {
      let text = ''
      incoming.setEncoding('utf8').on('data', (chunk: string) => { text += chunk }).on('end', () => {
        let json: unknown
        try { json = JSON.parse(text) } catch { json = undefined }
        resolve({ status: incoming.statusCode ?? 0, headers: incoming.headers, json })
      })
    })
    outgoing.on('error', reject)
    outgoing.end(body)
  })
}
