// Runs the compiled tests with Node's test runner, split in two suites:
//   node scripts/run-tests.mjs unit                 every dist/test/**/*.test.js outside dist/test/cluster/ (npm test: Node only)
//   node scripts/run-tests.mjs cluster              dist/test/cluster/**/*.test.js: real redis-server, nginx and replicas
//   node scripts/run-tests.mjs check-cluster-tools  only checks that redis-server and nginx are on PATH
// Node 20's `node --test <dir>` cannot leave a folder out (globs came in Node 21), hence this script.
// Arguments after the suite go to `node --test` (e.g. --test-name-pattern=...), except --list: print the files.
import { spawnSync } from 'node:child_process'
import { accessSync, constants, existsSync, readdirSync } from 'node:fs'
import { delimiter, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const testRoot = join(root, 'dist', 'test')
const clusterRoot = join(testRoot, 'cluster')
const CLUSTER_TOOLS = ['redis-server', 'nginx']
const INSTALL = 'apt-get install -y redis-server nginx-light'

const [suite, ...nodeTestArgs] = process.argv.slice(2)

/** The cluster suite needs these programs; missing one is a failure, never a silent skip. */
function checkClusterTools () {
  const missing = CLUSTER_TOOLS.filter((name) => !onPath(name))
  if (missing.length === 0) return
  process.stderr.write(`npm run test:cluster needs ${missing.join(' and ')} on PATH, and ${missing.length === 1 ? 'it is' : 'they are'} missing.\n` +
    `Install them (Debian/Ubuntu, as root): ${INSTALL}\n`)
  process.exit(1)
}

function onPath (name) {
  // nginx lives in /usr/sbin, which a non-root PATH may lack.
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin']
  return dirs.some((dir) => {
    try {
      accessSync(join(dir, name), constants.X_OK)
      return true
    } catch {
      return false
    }
  })
}

function testFiles (dir, exclude) {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.test.js'))
    .map((entry) => join(entry.parentPath ?? entry.path, entry.name))
    .filter((file) => exclude === undefined || relative(exclude, file).startsWith('..'))
    .sort()
}

let files
if (suite === 'unit') {
  files = testFiles(testRoot, clusterRoot)
} else if (suite === 'cluster') {
  if (!nodeTestArgs.includes('--list')) checkClusterTools()
  files = testFiles(clusterRoot)
} else if (suite === 'check-cluster-tools') {
  checkClusterTools()
  process.exit(0)
} else {
  process.stderr.write('usage: node scripts/run-tests.mjs unit|cluster|check-cluster-tools [node --test arguments]\n')
  process.exit(2)
}
if (files.length === 0) {
  process.stderr.write(`No compiled ${suite} tests under ${relative(root, testRoot)}: run npm run build first.\n`)
  process.exit(1)
}
if (nodeTestArgs.includes('--list')) {
  process.stdout.write(files.map((file) => `${relative(root, file)}\n`).join(''))
  process.exit(0)
}
// /usr/sbin on PATH for the tests' own spawn('nginx').
const env = { ...process.env, PATH: [process.env.PATH, '/usr/sbin', '/usr/local/sbin'].filter(Boolean).join(delimiter) }
// Node's default on 2 cores is one file at a time, yet most unit test files spend their time waiting on sockets,
// timers and child processes: three at a time halves the suite's wall time. The cluster suite's files each run
// several replicas, Redis and nginx, and fault tests measure outages in seconds: one at a time.
const concurrency = suite === 'unit' ? ['--test-concurrency=3'] : ['--test-concurrency=1']
const run = spawnSync(process.execPath, ['--test', ...concurrency, ...nodeTestArgs, ...files.map((file) => relative(root, file))], { cwd: root, stdio: 'inherit', env })
process.exit(run.status ?? 1)
