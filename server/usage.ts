import { CONFIG_ROWS, type ConfigRow } from './config-rows.js'
import { defaultText } from './config-schema.js'

/** A row's flag as people type it: `--port <number>`, `--sse / --no-sse`; empty for a variable alone. */
export function flagText (row: ConfigRow): string {
  if (row.flag === undefined) return ''
  if (row.negatable === true) return `--${row.flag} / --no-${row.flag}`
  return row.placeholder === undefined ? `--${row.flag}` : `--${row.flag} ${row.placeholder}`
}

function usageLine (row: ConfigRow, flagWidth: number, envWidth: number): string {
  const fallback = defaultText(row)
  return `  ${flagText(row).padEnd(flagWidth)}  ${(row.env ?? '').padEnd(envWidth)}  ${row.describe}; default ${fallback}`
}

/** The `--help` text, made from the table of rows. */
export function usage (rows: readonly ConfigRow[] = CONFIG_ROWS): string {
  const flagWidth = Math.max(...rows.map((row) => flagText(row).length))
  const envWidth = Math.max(...rows.map((row) => (row.env ?? '').length))
  return [
    'Usage: node server [options]       serve MCP over HTTP (default) or stdio',
    '       node server generate-key    print a new random token and exit',
    '',
    'Options (flag, environment variable; the flag wins, an empty variable counts as unset):',
    ...rows.map((row) => usageLine(row, flagWidth, envWidth)),
    `  ${'--help, --version'.padEnd(flagWidth)}  ${''.padEnd(envWidth)}  print this text or the version and exit`,
    ''
  ].join('\n')
}
