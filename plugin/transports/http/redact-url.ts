/**
 * Query parameters whose value a log line may show: the legacy SSE transport's session id (not a credential: a
 * session answers only its owner's identity). Every other parameter may be a token put in the wrong place.
 */
const SHOWN_PARAMETERS = new Set(['sessionId'])

/**
 * A request URL for a log line: the path, the shown parameters, and `[redacted]` in place of everything else in
 * the query string (`/mcp?access_token=abc` → `/mcp?[redacted]`).
 */
export function redactUrl (url: string): string {
  const question = url.indexOf('?')
  if (question === -1) return url
  const kept: string[] = []
  let hidden = false
  for (const pair of url.slice(question + 1).split('&')) {
    const equals = pair.indexOf('=')
    if (equals !== -1 && SHOWN_PARAMETERS.has(pair.slice(0, equals))) kept.push(pair)
    else if (pair !== '') hidden = true
  }
  if (hidden) kept.push('[redacted]')
  return kept.length === 0 ? url.slice(0, question) : `${url.slice(0, question)}?${kept.join('&')}`
}

interface LoggedRequest {
  method?: string
  url?: string
  host?: string
  ip?: string
  socket?: { remotePort?: number }
}

/**
 * Fastify's `req` log serializer with the query string redacted: pass it as `logger.serializers.req` so that the
 * "incoming request" line (and every line that logs `req`) never shows a token a client put in the URL.
 */
export function requestLogSerializer (request: LoggedRequest): Record<string, unknown> {
  return {
    method: request.method,
    url: request.url === undefined ? undefined : redactUrl(request.url),
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort
  }
}
