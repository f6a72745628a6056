/** The variable names of a URI template, as a type: `'users://{org}/{id}'` gives `'org' | 'id'`. */
export type TemplateVariables<Template extends string> =
  Template extends `${string}{${infer Name}}${infer Rest}`
    ? (Name extends `+${infer Reserved}` ? Reserved : Name) | TemplateVariables<Rest>
    : never

export interface CompiledTemplate {
  variables: string[]
  /** The variables' values when `uri` fits the template, else undefined. Time and memory linear in `uri`'s length. */
  match: (uri: string) => Record<string, string> | undefined
}

/** A template the matcher cannot serve; the message says why and what to write instead. */
export class UriTemplateError extends Error {}

interface Variable {
  name: string
  /** `{+name}`: any characters, slashes included; `{name}`: one path segment (no `/`, `?` or `#`). */
  reserved: boolean
  /** The literal text between this variable and the next one (or the end). */
  after: string
}

const EXPRESSION = /^(\+?)([A-Za-z0-9_]+)$/
const OPERATORS = '+#./;?&=,!@|'

function unsupported (template: string, expression: string): UriTemplateError {
  const operator = expression[0]
  const what = expression === ''
    ? 'an empty expression "{}"'
    : OPERATORS.includes(operator)
      ? `the RFC 6570 operator "${operator}" in "{${expression}}"`
      : /[*:,]/.test(expression)
        ? `"{${expression}}" (lists, "*" explode and ":" prefix modifiers)`
        : `"{${expression}}" (variable names are letters, digits and _)`
  return new UriTemplateError(`${what} is not supported in "${template}": use {name} for one path segment or {+name} for the rest ` +
    '(slashes included); read query parameters from the URI in the handler')
}

/** Splits a template into its leading literal and its variables, or throws UriTemplateError. */
function parse (template: string): { prefix: string, variables: Variable[] } {
  let prefix = ''
  const variables: Variable[] = []
  let index = 0
  const append = (text: string): void => {
    if (variables.length === 0) prefix += text
    else variables[variables.length - 1].after += text
  }
  while (index < template.length) {
    const open = template.indexOf('{', index)
    const close = template.indexOf('}', index)
    if (close !== -1 && (open === -1 || close < open)) throw new UriTemplateError(`"}" without "{" at character ${close} of "${template}"`)
    if (open === -1) {
      append(template.slice(index))
      break
    }
    if (close === -1) throw new UriTemplateError(`"{" without "}" at character ${open} of "${template}"`)
    append(template.slice(index, open))
    const expression = template.slice(open + 1, close)
    const parsed = EXPRESSION.exec(expression)
    if (parsed === null) throw unsupported(template, expression)
    if (variables.some((variable) => variable.name === parsed[2])) {
      throw new UriTemplateError(`the variable "${parsed[2]}" appears twice in "${template}": give each variable its own name`)
    }
    variables.push({ name: parsed[2], reserved: parsed[1] === '+', after: '' })
    index = close + 1
  }
  return { prefix, variables }
}

/** For each position, the index of the first `/`, `?` or `#` at or after it (the length when there is none). */
function segmentEnds (uri: string): Int32Array {
  const ends = new Int32Array(uri.length + 1)
  ends[uri.length] = uri.length
  for (let i = uri.length - 1; i >= 0; i--) {
    const code = uri.charCodeAt(i)
    ends[i] = code === 47 || code === 63 || code === 35 ? i : ends[i + 1]
  }
  return ends
}

/**
 * Finds where each variable ends, with the same answer as the backtracking regex `^prefix(v1)after1(v2)after2…$`
 * with greedy groups, but without backtracking. A backward pass marks, for each variable and each position, the
 * positions where the variable may end so that the rest of the template still fits (`ends[i][e]`); a forward
 * pass then takes, for each variable, the last such position its own class allows. O(length × template length).
 */
function locate (uri: string, start: number, variables: Variable[]): number[] | undefined {
  const n = uri.length
  const stops = variables.some((variable) => !variable.reserved) ? segmentEnds(uri) : undefined
  const limit = (variable: Variable, from: number): number => variable.reserved || stops === undefined ? n : stops[from]
  // restFits[p]: the variables after the current one, with their literals, match uri[p..n) exactly.
  let restFits = new Uint8Array(n + 1)
  restFits[n] = 1
  const ends: Uint8Array[] = new Array(variables.length)
  for (let i = variables.length - 1; i >= 0; i--) {
    const { after } = variables[i]
    const canEnd = new Uint8Array(n + 1)
    for (let e = 1; e + after.length <= n; e++) {
      if (restFits[e + after.length] === 1 && uri.startsWith(after, e)) canEnd[e] = 1
    }
    ends[i] = canEnd
    if (i === 0) break
    // fits[p]: variable i can start at p, i.e. some e in (p, limit(p)] has canEnd[e]. nextEnd walks backwards.
    const fits = new Uint8Array(n + 1)
    let nextEnd = Infinity
    for (let p = n - 1; p >= 0; p--) {
      if (canEnd[p + 1] === 1) nextEnd = p + 1
      if (nextEnd <= limit(variables[i], p)) fits[p] = 1
    }
    restFits = fits
  }
  const cuts: number[] = []
  let position = start
  for (const [i, variable] of variables.entries()) {
    let end = limit(variable, position)
    while (end > position && ends[i][end] !== 1) end--
    if (end === position) return undefined
    cuts.push(end)
    position = end + variable.after.length
  }
  return cuts
}

/**
 * Compiles the RFC 6570 subset resource templates use: `{name}` matches one path segment (percent-decoded),
 * `{+name}` matches the rest, slashes included. Any other expression (`{?q}`, `{#x}`, `{/x}`, `{a,b}`, `{x*}`)
 * throws UriTemplateError: the matcher would otherwise treat it as literal text and never match.
 */
export function compileUriTemplate (template: string): CompiledTemplate {
  const { prefix, variables } = parse(template)
  const names = variables.map((variable) => variable.name)
  return {
    variables: names,
    match (uri) {
      if (!uri.startsWith(prefix)) return undefined
      if (variables.length === 0) return uri.length === prefix.length ? {} : undefined
      const cuts = locate(uri, prefix.length, variables)
      if (cuts === undefined) return undefined
      const values: Record<string, string> = {}
      let position = prefix.length
      for (const [i, variable] of variables.entries()) {
        try {
          values[variable.name] = decodeURIComponent(uri.slice(position, cuts[i]))
        } catch {
          return undefined
        }
        position = cuts[i] + variable.after.length
      }
      return values
    }
  }
}
