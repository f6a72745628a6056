// ESLint with neostandard, the Fastify organisation's configuration (standard's rules, TypeScript included).
// Run with `npm run lint`. Ignores what .gitignore ignores (dist/, node_modules/, results).
import neostandard, { resolveIgnoresFromGitignore } from 'neostandard'

export default neostandard({
  ts: true,
  ignores: resolveIgnoresFromGitignore()
})
