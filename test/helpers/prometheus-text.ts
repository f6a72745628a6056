/**
 * A strict reader of the Prometheus text exposition format (0.0.4), as a stand-in for `promtool check metrics`:
 * every line must be a HELP, a TYPE or a sample; names and labels must be valid; a family's TYPE comes before its
 * samples and once; histograms need cumulative buckets ending in `+Inf` equal to `_count`. Throws on the first fault.
 */
export interface Sample { name: string, labels: Record<string, string>, value: number }
export interface Family { name: string, help: string | undefined, type: string, samples: Sample[] }

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped'])
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)( -?\d+)?$/

function parseValue (text: string, line: string): number {
  if (text === '+Inf') return Infinity
  if (text === '-Inf') return -Infinity
  if (text === 'NaN') return NaN
  if (!/^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`not a number: ${line}`)
  return Number(text)
}

function parseLabels (text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {}
  let rest = text
  while (rest !== '') {
    const match = /^([^=]+)="((?:[^"\\]|\\[\\"n])*)"(,|$)/.exec(rest)
    if (match === null || !LABEL.test(match[1])) throw new Error(`bad labels: ${line}`)
    if (match[1] in labels) throw new Error(`label twice: ${line}`)
    labels[match[1]] = match[2].replace(/\\n/g, '\n').replace(/\\(["\\])/g, '$1')
    rest = rest.slice(match[0].length)
  }
  return labels
}

/** The family a sample belongs to: `x_bucket`, `x_sum`, `x_count` are a histogram's (or summary's) own. */
function familyOf (name: string, families: Map<string, Family>): Family | undefined {
  if (families.has(name)) return families.get(name)
  const base = name.replace(/_(bucket|sum|count)$/, '')
  const family = families.get(base)
  return family !== undefined && (family.type === 'histogram' || family.type === 'summary') ? family : undefined
}

function checkHistogram (family: Family): void {
  const series = new Map<string, Sample[]>()
  for (const sample of family.samples.filter((s) => s.name === `${family.name}_bucket`)) {
    if (sample.labels.le === undefined) throw new Error(`${family.name}: a bucket without le`)
    const { le, ...rest } = sample.labels
    const key = JSON.stringify(rest)
    series.set(key, [...(series.get(key) ?? []), sample])
  }
  for (const [key, buckets] of series) {
    const bounds = buckets.map((bucket) => parseValue(bucket.labels.le, key))
    for (let i = 1; i < buckets.length; i++) {
      if (!(bounds[i] > bounds[i - 1])) throw new Error(`${family.name} ${key}: bucket bounds out of order`)
      if (buckets[i].value < buckets[i - 1].value) throw new Error(`${family.name} ${key}: buckets not cumulative`)
    }
    if (bounds.at(-1) !== Infinity) throw new Error(`${family.name} ${key}: no +Inf bucket`)
    const count = family.samples.find((s) => s.name === `${family.name}_count` && JSON.stringify(s.labels) === key)
    if (count === undefined || count.value !== buckets.at(-1)?.value) throw new Error(`${family.name} ${key}: _count differs from the +Inf bucket`)
    if (family.samples.find((s) => s.name === `${family.name}_sum` && JSON.stringify(s.labels) === key) === undefined) throw new Error(`${family.name} ${key}: no _sum`)
  }
}

export function parseExposition (text: string): Map<string, Family> {
  const families = new Map<string, Family>()
  const helps = new Map<string, string>()
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a newline')
  for (const line of text.split('\n').slice(0, -1)) {
    if (line === '') continue
    if (line.startsWith('# HELP ')) {
      const [name, ...help] = line.slice(7).split(' ')
      if (!NAME.test(name) || helps.has(name)) throw new Error(`bad or repeated HELP: ${line}`)
      helps.set(name, help.join(' '))
      continue
    }
    if (line.startsWith('# TYPE ')) {
      const [name, type, extra] = line.slice(7).split(' ')
      if (!NAME.test(name) || !TYPES.has(type) || extra !== undefined || families.has(name)) throw new Error(`bad or repeated TYPE: ${line}`)
      families.set(name, { name, help: helps.get(name), type, samples: [] })
      continue
    }
    if (line.startsWith('#')) continue
    const match = SAMPLE.exec(line)
    if (match === null) throw new Error(`not a sample line: ${line}`)
    const family = familyOf(match[1], families)
    if (family === undefined) throw new Error(`a sample before its TYPE: ${line}`)
    family.samples.push({ name: match[1], labels: parseLabels(match[3] ?? '', line), value: parseValue(match[4], line) })
  }
  for (const family of families.values()) if (family.type === 'histogram') checkHistogram(family)
  return families
}

/** The value of the one sample named `name` whose labels include `labels`; undefined when there is none. */
export function sampleValue (families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const family of families.values()) {
    const found = family.samples.filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value))
    if (found.length > 1) throw new Error(`${name} ${JSON.stringify(labels)}: ${found.length} samples match`)
    if (found.length === 1) return found[0].value
  }
  return undefined
}
