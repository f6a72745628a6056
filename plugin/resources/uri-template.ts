/** The variable names of a URI template, as a type: `'users://{org}/{id}'` gives `'org' | 'id'`. */
export type TemplateVariables<Template extends string> =
  Template extends `${string}{${infer Name}}${infer Rest}`
    ? (Name extends `+${infer Reserved}` ? Reserved : Name) | TemplateVariables<Rest>
    : never

export interface CompiledTemplate {
  variables: string[]
  /** The variables' values when `uri` fits the template, else undefined. */
  match: (uri: string) => Record<string, string> | undefined
}

const EXPRESSION = /\{(\+?)([A-Za-z0-9_]+)\}/g

function escapeRegExp (text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/**
 * Compiles the RFC 6570 subset resource templates use: `{name}` matches one path segment (percent-decoded),
 * `{+name}` matches the rest, slashes included.
 */
export function compileUriTemplate (template: string): CompiledTemplate {
  const variables: string[] = []
  let pattern = '^'
  let last = 0
  for (const match of template.matchAll(EXPRESSION)) {
    pattern += escapeRegExp(template.slice(last, match.index))
    pattern += match[1] === '+' ? '(.+)' : '([^/?#]+)'
    variables.push(match[2])
    last = match.index + match[0].length
  }
  const regexp = new RegExp(`${pattern}${escapeRegExp(template.slice(last))}$`)
  return {
    variables,
    match (uri) {
      const found = regexp.exec(uri)
      if (found === null) return undefined
      const values: Record<string, string> = {}
      for (const [index, name] of variables.entries()) {
        try {
          values[name] = decodeURIComponent(found[index + 1])
        } catch {
          return undefined
        }
      }
      return values
    }
  }
}
