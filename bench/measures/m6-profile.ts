import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { REPO_ROOT } from '../lib/processes.js'
import { gitSha } from '../lib/report.js'
import { renderSummary, summarizeProfile } from '../profile-summary.js'

const DIR = join(REPO_ROOT, 'bench', 'results', 'profiles')
/** Where the summary goes (profiles themselves are git-ignored). */
export const M6_PROFILE_SUMMARY = 'bench/results/profile-m6-latest.md'

/** BENCH_M6_PROFILE=1: the two replicas run under --cpu-prof, summarised over the first relayed CPU pass. */
export function m6Profiling (): boolean {
  return process.env.BENCH_M6_PROFILE === '1'
}

/** Node flags that make a replica write its CPU profile on exit, and the file it will write. */
export function profileFlags (replica: string): { flags: string[], file: string } {
  mkdirSync(DIR, { recursive: true })
  const name = `m6-${replica.replace(/\W+/g, '-')}-${Date.now()}.cpuprofile`
  return { flags: ['--cpu-prof', `--cpu-prof-dir=${DIR}`, `--cpu-prof-name=${name}`], file: join(DIR, name) }
}

/** Summarises the replicas' profiles (written when they stopped) over `window` into M6_PROFILE_SUMMARY. */
export function summarizeReplicaProfiles (profiles: Array<{ title: string, file: string }>, window: { fromUs: number, toUs: number }): void {
  const parts = profiles.map(({ title, file }) => existsSync(file)
    ? `${renderSummary(summarizeProfile(file, 20, window), title)}\nProfile: ${file.slice(REPO_ROOT.length)}\n`
    : `### ${title}\n\nNo profile was written (${file}).\n`)
  const report = [`# CPU profiles of the M6 relayed CPU pass (git ${gitSha()})`, '', ...parts].join('\n')
  writeFileSync(join(REPO_ROOT, M6_PROFILE_SUMMARY), report)
}
