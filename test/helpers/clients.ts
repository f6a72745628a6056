import type { TestContext } from 'node:test'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'

function newClient (): Client {
  return new Client({ name: 'fastify-mcp-host-tests', version: '1.0.0' })
}

/** An SDK client over Streamable HTTP; closed when the test ends. */
export async function connectHttp (t: TestContext, url: string, token?: string): Promise<Client> {
  const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` }
  const client = newClient()
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }))
  t.after(async () => { await client.close() })
  return client
}

/** An SDK client over the legacy HTTP+SSE transport; closed when the test ends. */
export async function connectSse (t: TestContext, url: string, token?: string): Promise<Client> {
  const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` }
  const client = newClient()
  const transport = new SSEClientTransport(new URL(url), {
    requestInit: { headers },
    eventSourceInit: { fetch: async (input, init) => await fetch(input, { ...init, headers: { ...init?.headers, ...headers } }) }
  })
  await client.connect(transport)
  t.after(async () => { await client.close() })
  return client
}

/** An SDK client that spawns `command args` and speaks MCP over its stdio; closed when the test ends. */
export async function connectStdio (t: TestContext, command: string, args: string[], env?: Record<string, string>): Promise<Client> {
  const client = newClient()
  await client.connect(new StdioClientTransport({ command, args, env: { ...process.env as Record<string, string>, ...env }, stderr: 'pipe' }))
  t.after(async () => { await client.close() })
  return client
}
