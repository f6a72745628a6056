// Replaces dist/plugin/protocol/typebox-runtime.js (tsc's output: re-exports from `typebox`) with a generated
// single-file bundle of the same exports, taken from the installed `typebox`. TypeBox ships ~700 small ES modules;
// loading them one by one is most of the host's start-up time. The bundle is vendored code: its first line says
// so and names the TypeBox version it holds; test/protocol/typebox-runtime.test.ts checks it against the installed
// one. The source of the list of exports is plugin/protocol/typebox-runtime.ts.
import { build } from 'esbuild'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const target = join(root, 'dist/plugin/protocol/typebox-runtime.js')
// `typebox` exports no ./package.json: find the one above the entry point Node resolves.
let packageDir = dirname(createRequire(join(root, 'package.json')).resolve('typebox'))
while (!existsSync(join(packageDir, 'package.json'))) packageDir = dirname(packageDir)
const { version } = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'))

await build({
  stdin: { contents: readFileSync(target, 'utf8'), resolveDir: root },
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outfile: target,
  allowOverwrite: true,
  legalComments: 'inline',
  banner: { js: `// GENERATED FILE, vendored typebox@${version} (MIT): the exports of plugin/protocol/typebox-runtime.ts bundled by scripts/bundle-typebox.mjs. Do not edit.` },
  logLevel: 'warning'
})
// tsc's source map described the re-export file, not this bundle.
rmSync(`${target}.map`, { force: true })
