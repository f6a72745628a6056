import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { parse } from 'yaml'
import { REPO_ROOT, spawnServer } from '../helpers/spawn-server.js'
import { parseConfig } from '../../server/config.js'
import { CONFIG_ROWS } from '../../server/config-rows.js'

const read = (path: string): string => readFileSync(join(REPO_ROOT, path), 'utf8')

interface ComposeService {
  profiles?: string[]
  build?: unknown
  command?: string[]
  environment: Record<string, string>
  ports: string[]
  healthcheck: { test: string[] }
}

/** The service `docker compose up` starts: the only one outside a profile (the cluster profile has its own test). */
function composeService (): ComposeService {
  const compose = parse(read('docker-compose.yml')) as { services: Record<string, ComposeService> }
  const services = Object.values(compose.services).filter((service) => service.profiles === undefined)
  assert.equal(services.length, 1, 'one service outside profiles')
  return services[0]
}

/** The environment variables `node server` reads: those of its configuration table. */
function variablesTheServerReads (): Set<string> {
  return new Set(CONFIG_ROWS.flatMap((row) => row.env === undefined ? [] : [row.env]))
}

test('the compose service requires MCP_TOKEN and sets only variables the server reads', () => {
  const { environment } = composeService()
  assert.match(read('docker-compose.yml'), /MCP_TOKEN: \$\{MCP_TOKEN:\?[^}]*generate-key[^}]*\}/)
  const known = variablesTheServerReads()
  assert.ok(known.has('MCP_TOKEN') && known.has('HOST') && known.has('PORT'), 'the source scan works (sanity check)')
  for (const name of Object.keys(environment)) assert.ok(known.has(name), `server/config-rows.ts has no row for ${name}`)
})

test('the compose service listens on 0.0.0.0:3100 inside the container and publishes that port', () => {
  const { environment, ports } = composeService()
  assert.equal(environment.HOST, '0.0.0.0')
  assert.equal(environment.PORT, '3100')
  assert.ok(ports.some((mapping) => mapping.endsWith(`:${environment.PORT}`)), `no published port maps to ${environment.PORT}`)
})

test('the compose environment is one the server accepts and serves on 0.0.0.0:3100 with the token', () => {
  const { environment, command } = composeService()
  // What compose hands the container: `${VAR:-default}` becomes its default, and the required token is set.
  const env = Object.fromEntries(Object.entries(environment).map(([name, value]) => [name, value.replace(/\$\{\w+:-([^}]*)\}/g, '$1')]))
  env.MCP_TOKEN = 'compose-token'
  const config = parseConfig(command?.slice(2) ?? [], env)
  assert.deepEqual([config.transport, config.host, config.port, config.noAuth], ['http', '0.0.0.0', 3100, false])
  assert.deepEqual(config.tokens.map((entry) => entry.token), ['compose-token'])
})

test('the compose healthcheck asks /health on the container port with node\'s fetch', () => {
  const { healthcheck, environment } = composeService()
  const [kind, ...command] = healthcheck.test
  assert.equal(kind, 'CMD')
  assert.deepEqual(command.slice(0, 2), ['node', '-e'])
  assert.match(command[2], new RegExp(`fetch\\('http://127\\.0\\.0\\.1:${environment.PORT}/health'\\)`))
  assert.doesNotMatch(healthcheck.test.join(' '), /curl|wget/)
})

test('the compose healthcheck command exits 0 against a running server and 1 against a stopped one', async (t) => {
  const server = await spawnServer(t, [], { MCP_TOKEN: 'healthcheck-token' })
  const script = composeService().healthcheck.test[3].replace('http://127.0.0.1:3100', server.baseUrl)
  await promisify(execFile)(process.execPath, ['-e', script])
  server.child.kill('SIGTERM')
  await server.exited
  await assert.rejects(promisify(execFile)(process.execPath, ['-e', script]), (error: { code: number }) => error.code === 1)
})
