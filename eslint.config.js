// ESLint with neostandard, the Fastify organisation's configuration (standard's rules, TypeScript included).
// Run with `npm run lint`. Ignores what .gitignore ignores (dist/, node_modules/, results).
import neostandard, { resolveIgnoresFromGitignore } from 'neostandard'

export default [
  ...neostandard({
    ts: true,
    ignores: resolveIgnoresFromGitignore()
  }),
  {
    rules: {
      // `void promise` marks a promise deliberately not awaited (the reply already sent, a background write);
      // as a statement it says so, anywhere else it hides a value.
      'no-void': ['error', { allowAsStatement: true }]
    }
  }
]
