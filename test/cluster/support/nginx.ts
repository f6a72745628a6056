import { mkdirSync, readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { freePort, removeDir, spawnManaged, tempDir, type ManagedProcess } from './child-process.js'

export interface NginxOptions {
  /** The replicas, as `127.0.0.1:port` (or just the port). Plain round-robin: no stickiness of any kind. */
  upstreams: Array<string | number>
  /** Largest request body nginx passes on (the replicas enforce their own limit). Default `8m`. */
  clientMaxBodySize?: string
  /**
   * The http-block part of the config (upstream and server blocks) instead of the built-in one, e.g. the
   * repository's deploy/nginx config adapted: gets the `listen` address and the upstreams' `host:port`s.
   */
  site?: (listen: string, upstreams: readonly string[]) => string
}

export interface Nginx {
  readonly port: number
  /** `http://127.0.0.1:<port>`: the load balancer's address, the one clients use. */
  readonly baseUrl: string
  readonly dir: string
  readonly upstreams: readonly string[]
  /**
   * Rewrites the upstream list and reloads (SIGHUP); resolves once the new workers run and the old ones have
   * exited (they close their open streams after 1 s), so that every later request sees the new list.
   */
  setUpstreams: (upstreams: Array<string | number>) => Promise<void>
  /** The access log: one line a request, with `upstream=<addr>` (the replica that served it) and its status. */
  accessLog: () => string
  errorLog: () => string
  stop: () => Promise<void>
}

/**
 * Starts nginx (nginx-light here) in front of the replicas, with a configuration written for this test into a
 * temporary directory: logs, pid file and temp files stay there, the process runs as the current user, in the
 * foreground. Each response carries `X-Upstream: <addr>` naming the replica that served it.
 */
export async function startNginx (t: TestContext, options: NginxOptions): Promise<Nginx> {
  const dir = tempDir('nginx')
  mkdirSync(join(dir, 'temp'))
  let upstreams = options.upstreams.map(upstreamAddress)
  let port = 0
  let master: ManagedProcess | undefined
  t.after(async () => {
    await stopMaster(master)
    removeDir(dir)
  })
  const configFile = join(dir, 'nginx.conf')
  const errorLog = (): string => existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8') : ''
  const write = (): void => {
    const listen = `127.0.0.1:${port}`
    const site = options.site?.(listen, upstreams) ?? testSite(listen, upstreams, options.clientMaxBodySize ?? '8m')
    writeFileSync(configFile, nginxConfig(dir, site))
  }

  for (let attempt = 1; master === undefined; attempt++) {
    port = await freePort()
    write()
    const started = spawnManaged('nginx', ['-p', `${dir}/`, '-c', configFile, '-e', join(dir, 'error.log'), '-g', 'daemon off;'], { cwd: dir })
    try {
      await waitFor(() => /start worker process \d+/.test(errorLog()), started, 'nginx')
      master = started
    } catch (error) {
      await stopMaster(started)
      if (attempt >= 5 || !/Address already in use/.test(errorLog())) throw new Error(`${String(error)}\n${errorLog()}`)
    }
  }

  return {
    get port () { return port },
    baseUrl: `http://127.0.0.1:${port}`,
    dir,
    get upstreams () { return upstreams },
    setUpstreams: async (next) => {
      upstreams = next.map(upstreamAddress)
      const before = countWorkerStarts(errorLog())
      write()
      master?.child.kill('SIGHUP')
      await waitFor(() => {
        const log = errorLog()
        if (/\[emerg\]/.test(log.slice(log.lastIndexOf('reconfiguring')))) throw new Error(`nginx rejected the new configuration:\n${log}`)
        return countWorkerStarts(log) > before && countWorkerExits(log) >= before
      }, master, 'nginx reload')
    },
    accessLog: () => existsSync(join(dir, 'access.log')) ? readFileSync(join(dir, 'access.log'), 'utf8') : '',
    errorLog,
    stop: async () => { await stopMaster(master) }
  }
}

/** The main configuration: one worker, and everything (logs, pid, temp files) inside the test's directory. */
function nginxConfig (dir: string, site: string): string {
  const temp = join(dir, 'temp')
  return `# Written by test/cluster/support/nginx.ts for one test.
worker_processes 1;
worker_shutdown_timeout 1s;  # on reload, old workers end their open streams after 1 s
${process.getuid?.() === 0 ? 'user root;  # as root, workers would otherwise run as nobody and could not use the temp directory' : ''}
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} info;
events { worker_connections 1024; }
http {
  log_format upstream '$remote_addr "$request" $status upstream=$upstream_addr upstream_status=$upstream_status';
  access_log ${join(dir, 'access.log')} upstream;
  client_body_temp_path ${temp}/body;
  proxy_temp_path ${temp}/proxy;
  fastcgi_temp_path ${temp}/fastcgi;
  uwsgi_temp_path ${temp}/uwsgi;
  scgi_temp_path ${temp}/scgi;
${site}
}
`
}

/** The built-in site: proxying fit for event streams, and never replaying a request on another replica. */
function testSite (listen: string, upstreams: readonly string[], clientMaxBodySize: string): string {
  return `
  upstream mcp_replicas {
    # Round-robin, no stickiness; max_fails=0 keeps a dead replica in the rotation, so tests see its failures.
${upstreams.map((address) => `    server ${address} max_fails=0;`).join('\n')}
    keepalive 16;
  }

  server {
    listen ${listen};
    client_max_body_size ${clientMaxBodySize};
    location / {
      proxy_pass http://mcp_replicas;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      # Event streams: pass every byte on at once, and keep idle streams open.
      proxy_buffering off;
      proxy_cache off;
      proxy_read_timeout 1h;
      proxy_send_timeout 1h;
      # Never send a request to a second replica after the first failed: a POST must not run twice.
      proxy_next_upstream off;
      add_header X-Upstream $upstream_addr always;
    }
  }`
}

function upstreamAddress (upstream: string | number): string {
  return typeof upstream === 'number' ? `127.0.0.1:${upstream}` : upstream
}

function countWorkerStarts (log: string): number {
  return log.match(/start worker process \d+/g)?.length ?? 0
}

function countWorkerExits (log: string): number {
  return log.match(/worker process \d+ exited/g)?.length ?? 0
}

async function waitFor (ready: () => boolean, process: ManagedProcess | undefined, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!ready()) {
    if (process !== undefined && !process.running) throw new Error(`${what}: nginx exited\n${process.output()}`)
    if (Date.now() > deadline) throw new Error(`${what}: not done within ${ms} ms`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** Stops the master and its workers: a worker outlives a master killed with SIGKILL, so they are killed too. */
async function stopMaster (master: ManagedProcess | undefined): Promise<void> {
  if (master === undefined || !master.running) return
  const workers = childPids(master.pid)
  await master.stop('SIGTERM', 3_000)
  for (const pid of workers) {
    try {
      // Only if that pid is still an nginx worker (not a new process that got the number).
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('nginx: worker')) process.kill(pid, 'SIGKILL')
    } catch { /* already gone */ }
  }
}

/** Pids whose parent is `pid`, from /proc. */
function childPids (pid: number): number[] {
  const children: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      if (parent === pid) children.push(Number(entry))
    } catch { /* the process ended meanwhile */ }
  }
  return children
}
