/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`): the top functions by self time, and self time by
 * package (node internals, each node_modules package, our plugin). Usable alone:
 *   node dist/bench/profile-summary.js <file.cpuprofile> [top]
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'

interface CallFrame { functionName: string, url: string, lineNumber: number, columnNumber: number }
interface ProfileNode { id: number, callFrame: CallFrame, hitCount?: number }
interface CpuProfile { nodes: ProfileNode[], samples: number[], timeDeltas: number[], startTime: number, endTime: number }

export interface Entry { key: string, selfMs: number, share: number }
export interface ProfileSummary { totalMs: number, busyMs: number, functions: Entry[], packages: Entry[] }

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const SPECIAL = new Set(['(idle)', '(program)', '(garbage collector)', '(root)'])

function shortUrl (url: string): string {
  if (url === '') return ''
  let path = url.startsWith('file://') ? fileURLToPath(url) : url
  if (path.startsWith(ROOT)) path = path.slice(ROOT.length)
  return path
}

/** Which package a frame belongs to: a node_modules package, node:internal, our plugin, or a V8 pseudo-frame. */
function packageOf (frame: CallFrame): string {
  if (SPECIAL.has(frame.functionName) && frame.url === '') return frame.functionName
  const path = shortUrl(frame.url)
  if (path === '') return '(native / V8 builtins)'
  if (path.startsWith('node:')) return 'node core (node:*)'
  const nm = path.lastIndexOf('node_modules/')
  if (nm !== -1) {
    const parts = path.slice(nm + 'node_modules/'.length).split('/')
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]
  }
  const top = path.split('/').slice(0, 3).join('/')
  return top
}

/** `window`: only samples taken within it (µs, the profile's monotonic clock; see the control channel's `cpu`). */
export function summarizeProfile (file: string, top = 15, window?: { fromUs: number, toUs: number }): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const selfUs = new Map<number, number>()
  const { samples, timeDeltas } = profile
  let at = profile.startTime
  for (let i = 0; i < samples.length; i++) {
    at += timeDeltas[i]
    if (window !== undefined && (at < window.fromUs || at > window.toUs)) continue
    // A sample stands for the time until the next one.
    const delta = i + 1 < timeDeltas.length ? timeDeltas[i + 1] : 0
    selfUs.set(samples[i], (selfUs.get(samples[i]) ?? 0) + Math.max(0, delta))
  }
  const functions = new Map<string, number>()
  const packages = new Map<string, number>()
  let total = 0
  let idle = 0
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame
    if (frame === undefined) continue
    total += us
    if (frame.functionName === '(idle)') idle += us
    const where = frame.url === '' ? '' : ` ${shortUrl(frame.url)}:${frame.lineNumber + 1}`
    const key = `${frame.functionName === '' ? '(anonymous)' : frame.functionName}${where}`
    functions.set(key, (functions.get(key) ?? 0) + us)
    const pkg = packageOf(frame)
    packages.set(pkg, (packages.get(pkg) ?? 0) + us)
  }
  const busy = total - idle
  const rank = (map: Map<string, number>, n: number): Entry[] => [...map.entries()]
    .filter(([key]) => !key.startsWith('(idle)'))
    .sort((a, b) => b[1] - a[1]).slice(0, n)
    .map(([key, us]) => ({ key, selfMs: us / 1000, share: busy === 0 ? 0 : us / busy }))
  return { totalMs: total / 1000, busyMs: busy / 1000, functions: rank(functions, top), packages: rank(packages, 15) }
}

export function renderSummary (summary: ProfileSummary, title: string): string {
  const pct = (share: number): string => `${(share * 100).toFixed(1)}%`
  return [
    `### ${title}`,
    '',
    `Profile length ${(summary.totalMs / 1000).toFixed(1)} s, of which busy (not idle) ${(summary.busyMs / 1000).toFixed(1)} s; shares below are of the busy time.`,
    '',
    '| # | self time | share | function (url:line) |',
    '|---:|---:|---:|---|',
    ...summary.functions.map((e, i) => `| ${i + 1} | ${e.selfMs.toFixed(0)} ms | ${pct(e.share)} | \`${e.key}\` |`),
    '',
    '| self time by package | share | ms |',
    '|---|---:|---:|',
    ...summary.packages.map((e) => `| ${e.key} | ${pct(e.share)} | ${e.selfMs.toFixed(0)} |`),
    ''
  ].join('\n')
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const file = process.argv[2]
  if (file === undefined) {
    process.stderr.write('usage: node dist/bench/profile-summary.js <file.cpuprofile> [top]\n')
    process.exit(1)
  }
  process.stdout.write(`${renderSummary(summarizeProfile(file, Number(process.argv[3] ?? 15)), file)}\n`)
}
