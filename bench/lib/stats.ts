/** Small statistics and formatting helpers. */

export function percentile (sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN
  const rank = Math.ceil((p / 100) * sorted.length) - 1
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))]
}

export function sortedCopy (values: ArrayLike<number>): Float64Array {
  return Float64Array.from(values).sort()
}

export function median (values: number[]): number {
  return percentile(sortedCopy(values), 50)
}

export function mean (values: number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length
}

export function fmt (value: number, digits = 2): string {
  if (!Number.isFinite(value)) return 'n/a'
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
}

export function fmtInt (value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : 'n/a'
}

export function mib (bytes: number): string {
  return `${fmt(bytes / 1024 / 1024, 1)} MiB`
}

export function kb (bytes: number): string {
  return `${fmt(bytes / 1024, 1)} KB`
}

/** A growable list of float samples without the cost of a JS array per value. */
export class Samples {
  private data = new Float64Array(1 << 16)
  length = 0

  push (value: number): void {
    if (this.length === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2)
      bigger.set(this.data)
      this.data = bigger
    }
    this.data[this.length++] = value
  }

  append (other: Samples): void {
    for (let i = 0; i < other.length; i++) this.push(other.data[i])
  }

  sorted (): Float64Array {
    return this.data.slice(0, this.length).sort()
  }
}

export const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

export function envNumber (name: string, fallback: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number, got "${raw}"`)
  return value
}
