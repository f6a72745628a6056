// The build starts from an empty dist/: a file whose source was moved or deleted must not linger in the package.
import { rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

rmSync(fileURLToPath(new URL('../dist', import.meta.url)), { recursive: true, force: true })
