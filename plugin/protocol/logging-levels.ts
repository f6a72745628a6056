import type { LoggingLevel } from './spec.js'

/** The levels of `notifications/message`, lowest first (RFC 5424 severities, as the spec orders them). */
const LEVEL_ORDER: Record<LoggingLevel, number> = {
  debug: 0, info: 1, notice: 2, warning: 3, error: 4, critical: 5, alert: 6, emergency: 7
}

export function isLoggingLevel (value: unknown): value is LoggingLevel {
  return typeof value === 'string' && value in LEVEL_ORDER
}

/** True when a message at `level` passes a client's `threshold` (no threshold: everything passes). */
export function passesLevel (level: LoggingLevel, threshold: LoggingLevel | undefined): boolean {
  return threshold === undefined || LEVEL_ORDER[level] >= LEVEL_ORDER[threshold]
}
