/**
 * Fastify's URL patterns (`/todos/:id`, `/files/*`, `/:file.:ext`, `/:id(^\d+)`, `/:id?`, `::` for a literal
 * colon), read into literal text and parameters, and filled back in with values for a call.
 */
export type PathSegment =
  | { kind: 'literal', text: string }
  | { kind: 'param', name: string, optional: boolean }
  | { kind: 'wildcard' }

/** The name Fastify gives the value matched by `*`. */
export const WILDCARD_PARAM = '*'

// find-my-way ends a parameter name at any of these characters.
const NAME_END = new Set(['/', '-', '.', ':', '(', '?', '*', ';'])

function skipRegex (url: string, start: number): number {
  let depth = 0
  for (let index = start; index < url.length; index++) {
    if (url[index] === '\\') { index++; continue }
    if (url[index] === '(') depth++
    if (url[index] === ')' && --depth === 0) return index + 1
  }
  return url.length
}

export function parseRoutePath (url: string): PathSegment[] {
  const segments: PathSegment[] = []
  let literal = ''
  let index = 0
  while (index < url.length) {
    const char = url[index]
    if (char === ':' && url[index + 1] === ':') {
      literal += ':'
      index += 2
      continue
    }
    if (char === '*') {
      if (literal !== '') segments.push({ kind: 'literal', text: literal })
      literal = ''
      segments.push({ kind: 'wildcard' })
      index++
      continue
    }
    if (char !== ':') {
      literal += char
      index++
      continue
    }
    let end = index + 1
    while (end < url.length && !NAME_END.has(url[end])) end++
    const name = url.slice(index + 1, end)
    if (url[end] === '(') end = skipRegex(url, end)
    const optional = url[end] === '?'
    if (optional) end++
    if (literal !== '') segments.push({ kind: 'literal', text: literal })
    literal = ''
    segments.push({ kind: 'param', name, optional })
    index = end
  }
  if (literal !== '') segments.push({ kind: 'literal', text: literal })
  return segments
}

/** The parameter names of a pattern, in order; the wildcard is `*`. */
export function pathParams (segments: readonly PathSegment[]): Array<{ name: string, optional: boolean }> {
  return segments.flatMap((segment) => {
    if (segment.kind === 'param') return [{ name: segment.name, optional: segment.optional }]
    if (segment.kind === 'wildcard') return [{ name: WILDCARD_PARAM, optional: true }]
    return []
  })
}

/**
 * The URL path for one call. Values are percent-encoded (a wildcard keeps its slashes); an optional parameter
 * without a value is left out along with the slash before it.
 */
export function fillRoutePath (segments: readonly PathSegment[], values: Record<string, unknown>): string {
  let path = ''
  for (const segment of segments) {
    if (segment.kind === 'literal') {
      path += segment.text
      continue
    }
    const name = segment.kind === 'param' ? segment.name : WILDCARD_PARAM
    const value = values[name]
    if (value === undefined || value === null || value === '') {
      if (path.endsWith('/') && path.length > 1) path = path.slice(0, -1)
      continue
    }
    path += segment.kind === 'wildcard'
      ? String(value).split('/').map(encodeURIComponent).join('/')
      : encodeURIComponent(String(value))
  }
  return path === '' ? '/' : path
}
