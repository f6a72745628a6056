#!/usr/bin/env node
import { ConfigError } from './config-error.js'
import { generateKey } from './generate-key.js'
import { PACKAGE_VERSION } from '../plugin/version.js'

/** Entry point of `node server`: picks the command and loads only the code that command needs. */
async function main (argv: string[]): Promise<void> {
  if (argv[0] === 'generate-key') {
    process.stdout.write(`${generateKey()}\n`)
    return
  }
  if (argv.includes('--version')) {
    process.stdout.write(`${PACKAGE_VERSION}\n`)
    return
  }
  // The configuration table reads its defaults from the option schemas: loaded only by the commands that need it.
  if (argv.includes('--help') || argv.includes('-h')) {
    const { usage } = await import('./usage.js')
    process.stdout.write(usage())
    return
  }
  const { parseConfig } = await import('./config.js')
  const config = parseConfig(argv, process.env)
  if (config.transport === 'stdio') {
    const { startStdioServer } = await import('./stdio.js')
    await startStdioServer(config)
  } else {
    const { startHttpServer } = await import('./http.js')
    await startHttpServer(config)
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof ConfigError || (error as { code?: string }).code?.startsWith('MCP_ERR_') === true) {
    process.stderr.write(`${(error as Error).message}\n`)
  } else {
    process.stderr.write(`Failed to start: ${(error as Error).stack ?? String(error)}\n`)
  }
  process.exitCode = 1
})
