import { execFileSync } from 'node:child_process'
import { cpus, loadavg, platform, arch, totalmem } from 'node:os'
import { REPO_ROOT, pinningLine } from './processes.js'

export interface Row {
  measure: string
  ours: string
  ceiling: string
  ratio: string
  target: string
  /** undefined: reported only, no target. */
  pass: boolean | undefined
  /** The measure could not be taken on this machine (its row says why). */
  notRun?: boolean
}

export interface Section {
  title: string
  rows: Row[]
  /** Free text under the table: per-round figures, how the figure was taken. */
  notes: string[]
}

function git (args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    return ''
  }
}

export function gitSha (): string {
  return git(['rev-parse', '--short', 'HEAD']) || 'nogit'
}

export function machineLine (startLoad: number[]): string {
  const cpu = cpus()
  const dirty = git(['status', '--porcelain', '--', 'plugin', 'server']) === '' ? '' : ' (plugin/ or server/ modified)'
  return `${cpu.length} cores (${cpu[0]?.model.trim() ?? 'unknown'}), ${Math.round(totalmem() / 2 ** 30)} GiB, ` +
    `Node ${process.version}, ${platform()} ${arch()}, ${new Date().toISOString()}, git ${gitSha()}${dirty}; ` +
    `${pinningLine()}; load average at start ${startLoad.map((l) => l.toFixed(2)).join(' / ')}, ` +
    `at end ${loadavg().map((l) => l.toFixed(2)).join(' / ')}`
}

export function ratio (ours: number, ceiling: number, digits = 2): string {
  if (!Number.isFinite(ours) || !Number.isFinite(ceiling) || ceiling === 0) return 'n/a'
  return `${(ours / ceiling).toFixed(digits)}×`
}

export function verdict (pass: boolean | undefined): string {
  return pass === undefined ? '(report)' : pass ? 'pass' : '**FAIL**'
}

export function renderTable (sections: Section[]): string {
  const lines = ['| measure | ours | ceiling | ratio | target | pass/fail |', '|---|---:|---:|---:|---|---|']
  for (const section of sections) {
    for (const row of section.rows) {
      lines.push(`| ${row.measure} | ${row.ours} | ${row.ceiling} | ${row.ratio} | ${row.target} | ${verdict(row.pass)} |`)
    }
  }
  return lines.join('\n')
}

export function renderReport (sections: Section[], machine: string, settings: string, elapsedSeconds: number): string {
  const parts = [
    '# MCP host benchmark',
    '',
    `Machine: ${machine}`,
    '',
    `Settings: ${settings}; whole run ${elapsedSeconds.toFixed(0)} s.`,
    '',
    renderTable(sections),
    ''
  ]
  const failed = sections.flatMap((s) => s.rows).filter((r) => r.pass === false)
  const notRun = sections.flatMap((s) => s.rows).filter((r) => r.notRun === true)
  parts.push((failed.length === 0 ? 'All targets met in this run.' : `Targets missed in this run: ${failed.map((r) => r.measure).join('; ')}.`) +
    (notRun.length === 0 ? '' : ` Not run: ${notRun.map((r) => `${r.measure} (${r.target})`).join('; ')}.`), '')
  for (const section of sections) {
    if (section.notes.length === 0) continue
    parts.push(`## ${section.title}`, '', ...section.notes.map((note) => `- ${note}`), '')
  }
  return parts.join('\n')
}
