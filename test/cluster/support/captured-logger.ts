import { Writable } from 'node:stream'
import { pino, type Logger } from 'pino'

export interface LogLine {
  level: number
  msg: string
  [field: string]: unknown
}

/** A real pino logger whose lines are kept in memory, parsed, for assertions. */
export function capturedLogger (): { logger: Logger, lines: () => LogLine[], text: () => string } {
  let text = ''
  const stream = new Writable({
    write (chunk: Buffer, _encoding, callback) {
      text += chunk.toString('utf8')
      callback()
    }
  })
  const logger = pino({ level: 'debug' }, stream)
  const lines = (): LogLine[] => text.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as LogLine)
  return { logger, lines, text: () => text }
}
