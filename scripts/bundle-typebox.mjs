// Replaces dist/plugin/protocol/typebox-runtime.js (a re-export of `typebox/schema`) with a single-file bundle of
// it. TypeBox ships ~700 small ES modules; loading them one by one is most of the host's start-up time.
import { build } from 'esbuild'
import { fileURLToPath } from 'node:url'

const target = fileURLToPath(new URL('../dist/plugin/protocol/typebox-runtime.js', import.meta.url))
await build({
  stdin: { contents: "export { Type } from 'typebox'\nexport { Compile } from 'typebox/schema'", resolveDir: fileURLToPath(new URL('..', import.meta.url)) },
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outfile: target,
  allowOverwrite: true,
  legalComments: 'inline',
  logLevel: 'warning'
})
