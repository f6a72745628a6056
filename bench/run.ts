/**
 * `npm run bench`: every measure of the performance issue in one run, side by side with its ceiling, printed as
 * a markdown table and written to bench/results/<date>-<sha>.md and bench/results/latest.md.
 * Servers run as separate children pinned to core 0; this process (the load generator) re-runs itself on core 1.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { pinSelf, REPO_ROOT, ServerChild } from './lib/processes.js'
import { gitSha, machineLine, renderReport, type Section } from './lib/report.js'
import { describeSettings, readSettings, type Servers } from './measures/context.js'
import { measureM1 } from './measures/m1-throughput.js'
import { measureM2 } from './measures/m2-sse.js'
import { measureM3 } from './measures/m3-cold-start.js'
import { measureM4 } from './measures/m4-scale.js'
import { measureOAuth } from './measures/m5-oauth.js'
import { measureM6 } from './measures/m6-cluster.js'

await pinSelf()

const log = (line: string): void => { process.stderr.write(`[bench] ${line}\n`) }
const started = performance.now()
const startLoad = loadavg()
const settings = readSettings()
const sections: Section[] = []
const children: ServerChild[] = []
// BENCH_ONLY=M2,M3 skips the others (M1 runs when M4 does: M4 compares with it). For quick looks, not for the record.
const only = (process.env.BENCH_ONLY ?? '').toUpperCase().split(',').map((m) => m.trim()).filter((m) => m !== '')
const wanted = (measure: string): boolean => only.length === 0 || only.includes(measure)

async function stopAll (): Promise<void> {
  await Promise.all(children.splice(0).map(async (child) => { await child.stop() }))
}

try {
  log(`settings: ${describeSettings(settings)}`)
  const start = async (name: string, script: string, env: NodeJS.ProcessEnv = {}): Promise<ServerChild> => {
    const child = await ServerChild.start(name, script, [], env)
    children.push(child)
    return child
  }
  if (wanted('M1') || wanted('M2') || wanted('M4') || wanted('M5')) {
    const servers: Servers = {
      ours: await start('ours', 'ours'),
      ceiling: await start('ceiling (bare Fastify)', 'bare-fastify'),
      oursSse: await start('ours (SSE)', 'ours'),
      ceilingSse: await start('ceiling (hand-made SSE)', 'ceiling-sse')
    }
    const m1 = wanted('M1') || wanted('M4') ? await measureM1(servers, settings, start, log) : undefined
    if (m1 !== undefined) sections.push(m1.section)
    if (wanted('M2')) sections.push(await measureM2(servers, settings, log))
    if (m1 !== undefined && wanted('M4')) sections.push(await measureM4(servers, settings, m1.ours, log))
    if (wanted('M5')) sections.push(await measureOAuth(servers, settings, start, log))
  }
  // Cold starts and the cluster want the server core to themselves.
  await stopAll()
  if (wanted('M3')) sections.push(await measureM3(settings, log))
  if (wanted('M6')) sections.push(await measureM6(settings, log))
} catch (error) {
  log(`failed: ${(error as Error).stack ?? String(error)}`)
  process.exitCode = 1
} finally {
  await stopAll()
}

if (sections.length > 0) {
  sections.sort((a, b) => a.title.localeCompare(b.title))
  const elapsed = (performance.now() - started) / 1000
  const report = renderReport(sections, machineLine(startLoad), describeSettings(settings), elapsed) +
    (process.exitCode === 1 ? '\n**The run failed before every measure was taken (see the log).**\n' : '')
  process.stdout.write(`${report}\n`)
  const dir = join(REPO_ROOT, 'bench', 'results')
  mkdirSync(dir, { recursive: true })
  const file = join(dir, `${new Date().toISOString().slice(0, 10)}-${gitSha()}.md`)
  writeFileSync(file, report)
  writeFileSync(join(dir, 'latest.md'), report)
  log(`written to ${file} and bench/results/latest.md`)
  const failed = sections.flatMap((s) => s.rows).some((r) => r.pass === false)
  if (failed && process.env.BENCH_STRICT === '1') process.exitCode = 2
}
