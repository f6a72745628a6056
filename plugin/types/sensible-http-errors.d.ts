/**
 * @fastify/sensible's HTTP error factory on its own: the plugin's other helpers (type-is, with its ~200 KB MIME
 * database) cost ~20 ms of start-up that the MCP routes do not need. The package has no exports map, so the path
 * is public; it ships the types under another name.
 */
declare module '@fastify/sensible/lib/httpErrors.js' {
  import type { HttpErrors } from '@fastify/sensible/lib/httpError.js'
  const httpErrors: HttpErrors
  export default httpErrors
}
