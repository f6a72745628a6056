// Replaces dist/plugin/protocol/typebox-runtime.js (re-exports from `typebox`) with a single-file bundle of the
// same exports. TypeBox ships ~700 small ES modules; loading them one by one is most of the host's start-up time.
import { build } from 'esbuild'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const target = fileURLToPath(new URL('../dist/plugin/protocol/typebox-runtime.js', import.meta.url))
await build({
  stdin: { contents: readFileSync(target, 'utf8'), resolveDir: fileURLToPath(new URL('..', import.meta.url)) },
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outfile: target,
  allowOverwrite: true,
  legalComments: 'inline',
  logLevel: 'warning'
})
