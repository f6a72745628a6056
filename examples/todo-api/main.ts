/**
 * `node dist/examples/todo-api/main.js`: the sample API on 127.0.0.1:3300 (PORT to change it), its MCP endpoint
 * at /mcp. Tokens come from ALICE_TOKEN and BOB_TOKEN, or are made for this run and printed on stderr.
 */
import { randomBytes } from 'node:crypto'
import { buildTodoApp } from './app.js'

const alice = process.env.ALICE_TOKEN ?? randomBytes(24).toString('base64url')
const bob = process.env.BOB_TOKEN ?? randomBytes(24).toString('base64url')
const apiKey = process.env.API_KEY ?? randomBytes(24).toString('base64url')
const { app } = await buildTodoApp({ tokens: [{ token: alice, id: 'alice' }, { token: bob, id: 'bob' }], apiKey, logger: true })
const address = await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 3300) })
process.stderr.write(`To-do API on ${address}/api, MCP on ${address}/mcp\nalice (admin): ${alice}\nbob (reader): ${bob}\nx-api-key: ${apiKey}\n`)
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => { void app.close() })
