import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { REPO_ROOT } from '../helpers/spawn-server.js'
import { parseConfig } from '../../server/config.js'
import { CONFIG_ROWS } from '../../server/config-rows.js'

const read = (path: string): string => readFileSync(join(REPO_ROOT, path), 'utf8')

interface Service {
  profiles?: string[]
  image?: string
  build?: unknown
  command?: string[]
  deploy?: { replicas?: number }
  environment?: Record<string, string>
  ports?: string[]
  volumes?: string[]
  depends_on?: Record<string, { condition: string }>
  healthcheck?: { test: string[] }
}

const compose = (): Record<string, Service> => (parse(read('docker-compose.yml')) as { services: Record<string, Service> }).services

function clusterServices (): { replica: Service, replicaName: string, valkey: Service, valkeyName: string, nginx: Service } {
  const services = Object.entries(compose()).filter(([, service]) => service.profiles?.includes('cluster') === true)
  const find = (match: (service: Service) => boolean, what: string): [string, Service] => {
    const found = services.filter(([, service]) => match(service))
    assert.equal(found.length, 1, `one ${what} service in the cluster profile`)
    return found[0]
  }
  const [replicaName, replica] = find((service) => service.command?.join(' ') === 'node server', 'node server')
  const [valkeyName, valkey] = find((service) => service.image?.startsWith('valkey/valkey:') === true, 'Valkey')
  const [, nginx] = find((service) => service.image?.startsWith('nginx:') === true, 'nginx')
  assert.equal(services.length, 3, 'nothing else in the cluster profile')
  return { replica, replicaName, valkey, valkeyName, nginx }
}

/** The environment variables node server reads: its table of configuration rows. */
function variablesTheServerReads (): Set<string> {
  return new Set(CONFIG_ROWS.flatMap((row) => row.env === undefined ? [] : [row.env]))
}

test('the cluster profile runs three replicas of the server image, Valkey and nginx', () => {
  const { replica, valkey, valkeyName, nginx } = clusterServices()
  const single = Object.values(compose()).find((service) => service.profiles === undefined)
  assert.equal(replica.deploy?.replicas, 3)
  assert.equal(replica.image, single?.image, 'the same image as the single server')
  assert.deepEqual(replica.ports, undefined, 'replicas are reached through nginx only')
  assert.deepEqual(valkey.command?.slice(0, 1), ['valkey-server'])
  assert.ok(valkey.command?.includes('--save') && valkey.command.includes('--appendonly'), 'Valkey runs without persistence')
  assert.equal(replica.depends_on?.[valkeyName]?.condition, 'service_healthy', 'replicas start once Valkey answers')
  assert.ok(nginx.ports?.length === 1)
})

test('the replicas share the token and the request-state secret and point MCP_REDIS_URL at Valkey', () => {
  const { replica, valkeyName } = clusterServices()
  const environment = replica.environment ?? {}
  assert.match(environment.MCP_TOKEN, /^\$\{MCP_TOKEN:\?[^}]*generate-key[^}]*\}$/)
  // eslint-disable-next-line no-template-curly-in-string -- compose's own interpolation syntax, as written in the file
  assert.equal(environment.MCP_REQUEST_STATE_SECRET, '${MCP_REQUEST_STATE_SECRET:-}')
  assert.equal(environment.MCP_REDIS_URL, `redis://${valkeyName}:6379`)
  assert.deepEqual([environment.HOST, environment.PORT], ['0.0.0.0', '3100'])
  const known = variablesTheServerReads()
  assert.ok(known.has('MCP_TOKEN') && known.has('MCP_REQUEST_STATE_SECRET'), 'the rows are read (sanity check)')
  for (const name of Object.keys(environment)) assert.ok(known.has(name), `server/config-rows.ts has no row for ${name}`)

  const env = Object.fromEntries(Object.entries(environment).map(([name, value]) => [name, value.replace(/\$\{\w+:-([^}]*)\}/g, '$1')]))
  const config = parseConfig(replica.command?.slice(2) ?? [], { ...env, MCP_TOKEN: 'compose-token', MCP_REQUEST_STATE_SECRET: 'a-secret-of-sixteen-chars' })
  assert.deepEqual([config.host, config.port], ['0.0.0.0', 3100])
})

test('only variables the default service needs anyway are required with :?, since compose checks every profile', () => {
  const required = [...read('docker-compose.yml').matchAll(/\$\{(\w+):\?/g)].map((match) => match[1])
  assert.deepEqual([...new Set(required)], ['MCP_TOKEN'])
})

test('nginx serves the repository\'s config, whose upstream is the replica service on the replica port', () => {
  const { nginx, replicaName, replica } = clusterServices()
  const mount = nginx.volumes?.find((volume) => volume.startsWith('./deploy/nginx/'))
  assert.ok(mount !== undefined, 'the config is mounted from deploy/nginx/')
  const [source, target, mode] = mount.split(':')
  assert.equal(target, '/etc/nginx/conf.d/default.conf')
  assert.equal(mode, 'ro')
  assert.ok(existsSync(join(REPO_ROOT, source)), `${source} exists`)
  const config = read(source)
  assert.match(config, new RegExp(`^\\s*server ${replicaName}:${replica.environment?.PORT ?? ''} resolve;$`, 'm'))
  const listen = config.match(/^\s*listen (\d+);$/m)?.[1]
  assert.ok(nginx.ports?.[0].endsWith(`:${listen ?? ''}`), 'the published port is the one nginx listens on')
})
