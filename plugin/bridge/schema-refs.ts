import { isSchemaObject, mapSubschemas, type SchemaObject } from './schema-walk.js'
import { SchemaProblem } from './schema-problem.js'

/** The shared schemas a route can see, by `$id` (what `fastify.getSchemas()` returns in the route's context). */
export type SharedSchemas = Readonly<Record<string, unknown>>

interface Location {
  /** The document a `#...` reference points into: the route's own schema, or a shared schema. */
  doc: unknown
  /** The `$id` of that document, against which relative references resolve; undefined for the route's own. */
  base: string | undefined
}

/** Keywords that only serve references; once every `$ref` is inlined they are noise in a tool schema. */
const REFERENCE_KEYWORDS = ['$id', '$schema', '$anchor', '$defs', 'definitions', '$comment']

function decodePointerToken (token: string): string {
  return decodeURIComponent(token).replace(/~1/g, '/').replace(/~0/g, '~')
}

function followPointer (doc: unknown, pointer: string, ref: string): unknown {
  let node = doc
  for (const token of pointer.split('/').slice(1).map(decodePointerToken)) {
    if (Array.isArray(node) && /^\d+$/.test(token)) node = node[Number(token)]
    else if (isSchemaObject(node) && Object.hasOwn(node, token)) node = node[token]
    else throw new SchemaProblem(`$ref "${ref}" points at nothing: "${pointer}" does not exist in the schema it names`)
  }
  return node
}

function findAnchor (node: unknown, anchor: string): unknown {
  if (Array.isArray(node)) {
    for (const item of node) {
      const found = findAnchor(item, anchor)
      if (found !== undefined) return found
    }
    return undefined
  }
  if (!isSchemaObject(node)) return undefined
  if (node.$anchor === anchor || node.$id === `#${anchor}`) return node
  for (const value of Object.values(node)) {
    const found = findAnchor(value, anchor)
    if (found !== undefined) return found
  }
  return undefined
}

function sharedDocument (id: string, base: string | undefined, shared: SharedSchemas): { doc: unknown, base: string } | undefined {
  const candidates = [id]
  if (base !== undefined) {
    try { candidates.unshift(new URL(id, base).href) } catch { /* not a URL: ids such as "Todo" are compared as they are */ }
  }
  for (const candidate of candidates) {
    for (const key of [candidate, candidate.endsWith('#') ? candidate.slice(0, -1) : `${candidate}#`]) {
      if (Object.hasOwn(shared, key)) return { doc: shared[key], base: key }
    }
  }
  return undefined
}

function locate (ref: string, from: Location, shared: SharedSchemas): Location & { node: unknown } {
  const hash = ref.indexOf('#')
  const id = hash === -1 ? ref : ref.slice(0, hash)
  const fragment = hash === -1 ? '' : ref.slice(hash + 1)
  let target: Location = from
  if (id !== '') {
    const found = sharedDocument(id, from.base, shared)
    if (found === undefined) {
      const known = Object.keys(shared)
      throw new SchemaProblem(`$ref "${ref}" names no schema added with fastify.addSchema() in the route's context` +
        (known.length === 0 ? ' (none were added)' : ` (known: ${known.slice(0, 10).join(', ')})`))
    }
    target = found
  }
  if (fragment === '' || fragment === '/') return { ...target, node: target.doc }
  if (fragment.startsWith('/')) return { ...target, node: followPointer(target.doc, fragment, ref) }
  const anchored = findAnchor(target.doc, fragment)
  if (anchored === undefined) throw new SchemaProblem(`$ref "${ref}" names an anchor "${fragment}" that no subschema declares`)
  return { ...target, node: anchored }
}

function inline (node: unknown, from: Location, shared: SharedSchemas, trail: readonly unknown[]): unknown {
  if (!isSchemaObject(node)) return node
  let result: unknown
  if (typeof node.$ref === 'string') {
    const target = locate(node.$ref, from, shared)
    if (trail.includes(target.node)) {
      throw new SchemaProblem(`$ref "${node.$ref}" is recursive: a tool schema is inlined and cannot contain itself`)
    }
    const resolved = inline(target.node, target, shared, [...trail, target.node])
    const { $ref, ...siblings } = node
    const rest = inline(siblings, from, shared, trail) as SchemaObject
    // Keywords beside a $ref (a description, most often) refine what it points to.
    result = isSchemaObject(resolved) ? { ...resolved, ...rest } : Object.keys(rest).length === 0 ? resolved : { allOf: [resolved], ...rest }
  } else {
    result = mapSubschemas(node, (child) => inline(child, from, shared, trail))
  }
  if (isSchemaObject(result)) for (const keyword of REFERENCE_KEYWORDS) delete result[keyword]
  return result
}

/**
 * A copy of `schema` with every `$ref` replaced by what it points to: a shared schema (`Todo`, `Todo#`,
 * `Todo#/properties/title`, a URL id, or one relative to the shared schema it appears in), a JSON pointer into the
 * same document (`#/definitions/x`) or an anchor. Recursive schemas and unknown ids throw SchemaProblem.
 */
export function inlineRefs (schema: unknown, shared: SharedSchemas): unknown {
  return inline(schema, { doc: schema, base: undefined }, shared, [schema])
}

/**
 * OpenAPI's `nullable: true` (which Fastify's Ajv and serializer accept) as plain JSON Schema: `null` joins the
 * `type` (and the `enum`), or the schema becomes `anyOf` itself or null.
 */
export function normalizeNullable (schema: unknown): unknown {
  if (!isSchemaObject(schema)) return schema
  const out = mapSubschemas(schema, normalizeNullable)
  if (!('nullable' in out)) return out
  const nullable = out.nullable === true
  delete out.nullable
  if (!nullable) return out
  if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null]
  if (typeof out.type === 'string') {
    out.type = out.type === 'null' ? 'null' : [out.type, 'null']
    return out
  }
  if (Array.isArray(out.type)) {
    if (!out.type.includes('null')) out.type = [...out.type, 'null']
    return out
  }
  const { description, title, ...rest } = out
  const wrapped: SchemaObject = { anyOf: [rest, { type: 'null' }] }
  if (title !== undefined) wrapped.title = title
  if (description !== undefined) wrapped.description = description
  return wrapped
}

/** A route's schema part as the bridge exposes it: references inlined, `nullable` rewritten. */
export function toolSchemaOf (schema: unknown, shared: SharedSchemas): unknown {
  return normalizeNullable(inlineRefs(schema, shared))
}
