// A consumer of the installed package: every entry point, type-checked against the installed declarations, then
// one real call through the plugin (HTTP) and one through the stdio entry. Prints one JSON line of results.
import { PassThrough } from 'node:stream'
import Fastify from 'fastify'
import mcpPlugin, { defineTool, type McpPluginOptions } from 'fastify-mcp-host'
import { createDispatcher, PACKAGE_NAME, PACKAGE_VERSION, type Logger } from 'fastify-mcp-host/core'
import { serveStdio } from 'fastify-mcp-host/stdio'
import { Type } from 'typebox'

const add = defineTool({
  name: 'add',
  description: 'Adds two numbers',
  input: Type.Object({ a: Type.Number(), b: Type.Number() }),
  output: Type.Object({ sum: Type.Number() }),
  handler: ({ a, b }) => ({ sum: a + b })
})

const TOKEN = 'consumer-app-token'
const options: McpPluginOptions = { auth: { tokens: [TOKEN] }, tools: [add] }

async function overHttp (): Promise<unknown> {
  const app = Fastify()
  await app.register(mcpPlugin, options)
  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  try {
    const response = await fetch(`${address}/mcp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'add', arguments: { a: 2, b: 3 } } })
    })
    const body = await response.json() as { result?: { structuredContent?: unknown } }
    return { status: response.status, structuredContent: body.result?.structuredContent, hostStatus: app.mcp.status().status }
  } finally {
    await app.close()
  }
}

const quiet = (): void => {}
const log: Logger = { trace: quiet, debug: quiet, info: quiet, warn: quiet, error: quiet, fatal: quiet, child: () => log }

async function overStdio (): Promise<unknown> {
  const input = new PassThrough()
  const output = new PassThrough()
  const dispatcher = createDispatcher({ info: { name: PACKAGE_NAME, version: PACKAGE_VERSION }, tools: [add] })
  const server = serveStdio({ dispatcher, input, output, log })
  const answers = new Map<unknown, unknown>()
  let buffered = ''
  output.on('data', (chunk: Buffer) => {
    buffered += chunk.toString()
    for (let end = buffered.indexOf('\n'); end !== -1; end = buffered.indexOf('\n')) {
      const message = JSON.parse(buffered.slice(0, end)) as { id?: unknown }
      answers.set(message.id, message)
      buffered = buffered.slice(end + 1)
    }
  })
  const send = (message: object): void => { input.write(`${JSON.stringify(message)}\n`) }
  send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'consumer-app', version: '1.0.0' } } })
  send({ jsonrpc: '2.0', method: 'notifications/initialized' })
  send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'add', arguments: { a: 20, b: 22 } } })
  input.end()
  await server.closed
  return (answers.get(2) as { result?: { structuredContent?: unknown } } | undefined)?.result?.structuredContent
}

process.stdout.write(`${JSON.stringify({ http: await overHttp(), stdio: await overStdio(), version: PACKAGE_VERSION })}\n`)
