import { execFile } from 'node:child_process'
import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { promisify } from 'node:util'
import { Redis } from 'ioredis'
import { freePort, removeDir, spawnManaged, tempDir, waitForOutput, type ManagedProcess } from './child-process.js'

export interface RedisServerOptions {
  /** Require this ACL user; the default user is switched off, so a connection that does not log in gets NOAUTH. */
  acl?: { username: string, password: string }
  /** Serve TLS only (`rediss://`), with a self-signed certificate for 127.0.0.1 made for this test. */
  tls?: boolean
}

export interface RedisServer {
  readonly host: '127.0.0.1'
  readonly port: number
  /** `redis://` (or `rediss://`) URL with the ACL user and password when there are some. */
  readonly url: string
  /** PEM of the certificate that signs the server's (TLS only): give it as `tls: { ca }` or NODE_EXTRA_CA_CERTS. */
  readonly ca: string | undefined
  readonly caFile: string | undefined
  /** The working directory (nothing is persisted in it). */
  readonly dir: string
  readonly running: boolean
  /** Log of the current process. */
  output: () => string
  /** Ends the process (SIGTERM: Redis closes its connections; SIGKILL: they just break). */
  stop: (signal?: 'SIGTERM' | 'SIGKILL') => Promise<void>
  /** Starts it again on the same port, empty (no persistence). */
  start: () => Promise<void>
  /** SIGKILL, then start: a Redis that crashed and came back empty. */
  restart: () => Promise<void>
  /** SIGSTOP: connections stay open and nothing answers, like a hung server. */
  pause: () => void
  /** SIGCONT after `pause`. */
  resume: () => void
  /** A new ioredis client with the server's credentials (and CA), for checks; closed when the test ends. */
  client: () => Promise<Redis>
}

/** Starts `redis-server` on a free loopback port, persistence off; it is killed when the test ends. */
export async function startRedisServer (t: TestContext, options: RedisServerOptions = {}): Promise<RedisServer> {
  const dir = tempDir('redis')
  const clients: Redis[] = []
  let port = 0
  let current: ManagedProcess | undefined
  t.after(async () => {
    for (const client of clients) client.disconnect()
    await current?.stop('SIGKILL')
    removeDir(dir)
  })
  const caFile = options.tls === true ? await makeCertificate(dir) : undefined
  const ca = caFile === undefined ? undefined : readFileSync(caFile, 'utf8')

  const launch = async (): Promise<ManagedProcess> => {
    const started = spawnManaged('redis-server', serverArguments(port, dir, options), { cwd: dir })
    try {
      await waitForOutput(started, /Ready to accept connections/, `redis-server on port ${port}`)
    } catch (error) {
      await started.stop('SIGKILL')
      throw error
    }
    return started
  }
  const start = async (): Promise<void> => {
    if (current?.running === true) throw new Error('redis-server is already running')
    current = await launch()
  }
  // The free port may be taken before redis-server binds it: try a few.
  for (let attempt = 1; current === undefined; attempt++) {
    port = await freePort()
    try {
      current = await launch()
    } catch (error) {
      if (attempt >= 5 || !/Address already in use/.test(String(error))) throw error
    }
  }

  const credentials = options.acl === undefined ? '' : `${encodeURIComponent(options.acl.username)}:${encodeURIComponent(options.acl.password)}@`
  const url = `${options.tls === true ? 'rediss' : 'redis'}://${credentials}127.0.0.1:${port}`
  return {
    host: '127.0.0.1',
    get port () { return port },
    url,
    ca,
    caFile,
    dir,
    get running () { return current?.running === true },
    output: () => current?.output() ?? '',
    stop: async (signal = 'SIGTERM') => { await current?.stop(signal) },
    start,
    restart: async () => {
      await current?.stop('SIGKILL')
      await start()
    },
    pause: () => { current?.child.kill('SIGSTOP') },
    resume: () => { current?.child.kill('SIGCONT') },
    client: async () => {
      const client = new Redis(url, { ...(ca === undefined ? {} : { tls: { ca } }), lazyConnect: true, maxRetriesPerRequest: 0 })
      clients.push(client)
      await client.connect()
      return client
    }
  }
}

function serverArguments (port: number, dir: string, options: RedisServerOptions): string[] {
  const args = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--logfile', '']
  if (options.tls === true) {
    const cert = join(dir, 'tls', 'cert.pem')
    args.push('--port', '0', '--tls-port', String(port), '--tls-cert-file', cert, '--tls-key-file', join(dir, 'tls', 'key.pem'),
      '--tls-ca-cert-file', cert, '--tls-auth-clients', 'no')
  } else {
    args.push('--port', String(port))
  }
  if (options.acl !== undefined) {
    args.push('--user', 'default', 'off', '--user', options.acl.username, 'on', `>${options.acl.password}`, '~*', '&*', '+@all')
  }
  return args
}

/** A throwaway self-signed certificate for 127.0.0.1 (and localhost); returns the certificate's path. */
async function makeCertificate (dir: string): Promise<string> {
  const tlsDir = join(dir, 'tls')
  mkdirSync(tlsDir)
  const cert = join(tlsDir, 'cert.pem')
  await promisify(execFile)('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', join(tlsDir, 'key.pem'), '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'])
  return cert
}
