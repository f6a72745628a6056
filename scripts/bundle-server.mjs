// Bundles the standalone server's own code (server/ and plugin/, already compiled to dist/) into a few files in
// dist/server/bundle/, one chunk per transport so that stdio still loads no HTTP code. Dependencies stay in
// node_modules. Loading ~70 small ES modules one by one was a third of `node server`'s start-up.
import { build } from 'esbuild'
import { rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
// Chunk names carry a content hash: clear the last build's, or stale chunks pile up in the package.
rmSync(`${root}dist/server/bundle`, { recursive: true, force: true })
await build({
  absWorkingDir: root,
  entryPoints: ['dist/server/main.js'],
  bundle: true,
  splitting: true,
  packages: 'external',
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outdir: 'dist/server/bundle',
  sourcemap: true,
  logLevel: 'warning'
})
