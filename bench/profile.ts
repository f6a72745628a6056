/**
 * `npm run bench:profile`: the M1 load against a server child running under `node --cpu-prof`, then the top
 * functions by self time. BENCH_PROFILE_TARGET=ours (default) | ceiling | both; BENCH_ERA=2025 (default) | 2026 |
 * both (the request's MCP revision); BENCH_DURATION (default 10 s). Profiles go to bench/results/profiles/
 * (git-ignored), the summary to bench/results/profile[-<target>][-<era>]-latest.md.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { checkAnswer, load } from './lib/load.js'
import { pinSelf, REPO_ROOT, ServerChild } from './lib/processes.js'
import { benchCall, type Era } from './servers/common.js'
import { gitSha, machineLine } from './lib/report.js'
import { envNumber, fmt, fmtInt } from './lib/stats.js'
import { renderSummary, summarizeProfile } from './profile-summary.js'
import { loadavg } from 'node:os'

await pinSelf()

const startLoad = loadavg()
const duration = envNumber('BENCH_DURATION', 10)
const connections = Math.max(1, Math.round(envNumber('BENCH_CONNECTIONS', 10)))
const which = process.env.BENCH_PROFILE_TARGET ?? 'ours'
const targets = which === 'both' ? ['ours', 'ceiling'] : [which]
const eraSetting = process.env.BENCH_ERA ?? '2025'
if (!['2025', '2026', 'both'].includes(eraSetting)) throw new Error(`BENCH_ERA must be 2025, 2026 or both, not "${eraSetting}"`)
const eras: Era[] = eraSetting === 'both' ? ['2025', '2026'] : [eraSetting as Era]
const dir = join(REPO_ROOT, 'bench', 'results', 'profiles')
mkdirSync(dir, { recursive: true })
const parts: string[] = []

for (const era of eras) {
  for (const target of targets) {
    const call = benchCall(era)
    const script = target === 'ceiling' ? 'bare-fastify' : target === 'ours' ? 'ours' : undefined
    if (script === undefined) throw new Error(`BENCH_PROFILE_TARGET must be ours, ceiling or both, not "${target}"`)
    const name = `${target}-${era}-${Date.now()}.cpuprofile`
    const server = await ServerChild.start(target, script, ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${name}`])
    let line: string
    let window: { fromUs: number, toUs: number }
    try {
      await checkAnswer(server, call)
      await load(server, 2, connections, call)
      const run = await load(server, duration, connections, call)
      window = run.window
      line = `${target}, ${era} era: ${fmtInt(run.requests / run.seconds)} req/s, ${run.errors} errors, server CPU ${fmt(run.serverCpu * 100, 0)}%, ` +
      `${fmt(run.cpuPerRequestUs, 1)} µs CPU per request (${connections} connections; 2 s warm-up, then ${duration} s summarised: start-up and warm-up are cut out)`
      process.stderr.write(`[profile] ${line}\n`)
    } finally {
      await server.stop(15_000)
    }
    if (!readdirSync(dir).includes(name)) throw new Error(`no profile written for ${target}`)
    parts.push(renderSummary(summarizeProfile(join(dir, name), 15, window), line), `Profile: bench/results/profiles/${name}`, '')
  }
}

const report = [`# CPU profile of the M1 load (git ${gitSha()})`, '', `Machine: ${machineLine(startLoad)}`, '', ...parts].join('\n')
process.stdout.write(`${report}\n`)
const fileName = `profile${which === 'ours' ? '' : `-${which}`}${eraSetting === '2025' ? '' : `-${eraSetting}`}-latest.md`
writeFileSync(join(REPO_ROOT, 'bench', 'results', fileName), report)
