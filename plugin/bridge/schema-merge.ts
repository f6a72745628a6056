import { SchemaProblem } from './schema-problem.js'
import { fitsInUrl, isObjectType, isSchemaObject, type SchemaObject } from './schema-walk.js'
import { parseRoutePath, pathParams, WILDCARD_PARAM } from './route-path.js'
import { whyNotArgument } from './header-rules.js'

/** Where an argument goes in the HTTP request. */
export type RoutePart = 'params' | 'querystring' | 'headers' | 'body'

/** One tool argument and the request field it fills. */
export interface ArgumentTarget {
  argument: string
  part: RoutePart
  /** The field's name in its part; the empty string for a body sent whole. */
  field: string
}

export type BodyShape =
  | { kind: 'none' }
  /** The body's properties are arguments; `extra` sends unlisted arguments to the body too. */
  | { kind: 'fields', extra: boolean }
  /** One argument is the body. */
  | { kind: 'whole', argument: string }

export interface MergedInput {
  /** The tool's input schema: one object over every part. */
  schema: SchemaObject
  targets: ArgumentTarget[]
  body: BodyShape
}

/** A route's schemas, `$ref`s already inlined. */
export interface RouteSchemaParts {
  url: string
  params?: unknown
  querystring?: unknown
  body?: unknown
  headers?: unknown
  /** `config.mcp.headers`: the headers schema's properties become arguments. */
  headerArguments: boolean
  /** Headers the plugin forwards from the MCP request (`bridge.forwardHeaders`), lower case. */
  forwardedHeaders: readonly string[]
}

interface Candidate {
  part: RoutePart
  field: string
  preferred: string
  schema: unknown
  required: boolean
}

const PART_PREFIX: Record<RoutePart, string> = { params: 'path', querystring: 'query', headers: 'header', body: 'body' }
const PART_NOUN: Record<RoutePart, string> = { params: 'Path parameter', querystring: 'Query parameter', headers: 'Header', body: 'Body field' }
const WHOLE_BODY_ARGUMENT = 'body'
const WILDCARD_ARGUMENT = 'path'

/** Keywords a body object may carry and still be spread into arguments without losing a constraint. */
const SPREADABLE_BODY_KEYWORDS = new Set(['type', 'properties', 'required', 'additionalProperties', 'title', 'description', 'examples'])

function objectPart (schema: unknown, part: string): { properties: Record<string, unknown>, required: string[] } {
  if (schema === undefined) return { properties: {}, required: [] }
  if (!isObjectType(schema) || !isSchemaObject(schema)) {
    throw new SchemaProblem(`the ${part} schema must be an object schema with "properties" (a ${describeType(schema)} cannot be spread into tool arguments)`)
  }
  const properties = isSchemaObject(schema.properties) ? schema.properties : {}
  const required = Array.isArray(schema.required) ? schema.required.filter((name): name is string => typeof name === 'string') : []
  return { properties, required }
}

function describeType (schema: unknown): string {
  if (!isSchemaObject(schema)) return `${String(schema)} schema`
  if (typeof schema.type === 'string') return `schema of type "${schema.type}"`
  const composite = ['anyOf', 'oneOf', 'allOf'].find((keyword) => keyword in schema)
  return composite === undefined ? 'schema without "type"' : `schema built with "${composite}"`
}

function pathCandidates (parts: RouteSchemaParts): Candidate[] {
  const declared = objectPart(parts.params, 'params')
  const inUrl = pathParams(parseRoutePath(parts.url))
  const names = new Set(inUrl.map((param) => param.name))
  const missing = declared.required.filter((name) => !names.has(name))
  if (missing.length > 0) throw new SchemaProblem(`the params schema requires "${missing[0]}", which the URL ${parts.url} has no place for`)
  return inUrl.map(({ name, optional }) => {
    const schema = declared.properties[name] ?? { type: 'string' }
    if (!fitsInUrl(schema, false)) throw new SchemaProblem(`path parameter "${name}" must be a string, number or boolean to fit in the URL`)
    return { part: 'params', field: name, preferred: name === WILDCARD_PARAM ? WILDCARD_ARGUMENT : name, schema, required: !optional }
  })
}

function queryCandidates (parts: RouteSchemaParts): Candidate[] {
  const { properties, required } = objectPart(parts.querystring, 'querystring')
  return Object.entries(properties).map(([name, schema]) => {
    if (!fitsInUrl(schema, true)) {
      throw new SchemaProblem(`query parameter "${name}" is an object (or a list of lists), which a query string cannot carry`)
    }
    return { part: 'querystring', field: name, preferred: name, schema, required: required.includes(name) }
  })
}

function headerCandidates (parts: RouteSchemaParts): Candidate[] {
  const { properties, required } = objectPart(parts.headers, 'headers')
  if (!parts.headerArguments) {
    const unmet = required.map((name) => name.toLowerCase()).find((name) => !parts.forwardedHeaders.includes(name))
    if (unmet !== undefined) {
      throw new SchemaProblem(`it requires the header "${unmet}": set config.mcp.headers to true to make its headers tool arguments, ` +
        'or list the header in the plugin\'s bridge.forwardHeaders to copy it from the MCP request')
    }
    return []
  }
  return Object.entries(properties).map(([name, schema]) => {
    const header = name.toLowerCase()
    const why = whyNotArgument(header)
    if (why !== undefined) throw new SchemaProblem(`header "${name}" cannot be a tool argument: ${why}`)
    if (!fitsInUrl(schema, false)) throw new SchemaProblem(`header "${name}" must be a string, number or boolean`)
    return { part: 'headers', field: header, preferred: header, schema, required: required.includes(name) }
  })
}

function isSpreadable (body: unknown): body is SchemaObject {
  return isObjectType(body) && isSchemaObject(body) && Object.keys(body).every((key) => SPREADABLE_BODY_KEYWORDS.has(key))
}

function bodyCandidates (body: unknown): { candidates: Candidate[], shape: BodyShape, additional: unknown } {
  if (body === undefined) return { candidates: [], shape: { kind: 'none' }, additional: false }
  if (!isSpreadable(body)) {
    return {
      candidates: [{ part: 'body', field: '', preferred: WHOLE_BODY_ARGUMENT, schema: body, required: true }],
      shape: { kind: 'whole', argument: WHOLE_BODY_ARGUMENT },
      additional: false
    }
  }
  const { properties, required } = objectPart(body, 'body')
  // Unlisted arguments go to the body only when the body says it takes them; otherwise a misspelt argument is refused.
  const additional = body.additionalProperties === true || isSchemaObject(body.additionalProperties) ? body.additionalProperties : false
  return {
    candidates: Object.entries(properties).map(([name, schema]) => ({ part: 'body', field: name, preferred: name, schema, required: required.includes(name) })),
    shape: { kind: 'fields', extra: additional !== false },
    additional
  }
}

function renamed (candidate: Candidate): { argument: string, schema: unknown } {
  const argument = `${PART_PREFIX[candidate.part]}_${candidate.preferred}`
  const label = candidate.field === '' ? 'The request body' : `${PART_NOUN[candidate.part]} "${candidate.field}"`
  if (!isSchemaObject(candidate.schema)) return { argument, schema: candidate.schema }
  const own = typeof candidate.schema.description === 'string' ? candidate.schema.description : undefined
  return { argument, schema: { ...candidate.schema, description: own === undefined ? label : `${label}: ${own}` } }
}

/**
 * One input schema for a route: its path parameters, query string, (opted-in) headers and body side by side, each
 * property with its full schema. A name used by two parts is renamed in both (`path_id`, `body_id`), so no part
 * silently wins. A body that is not a plain object (an array, a string, a union) is one argument, `body`.
 */
export function mergeInputSchema (parts: RouteSchemaParts): MergedInput {
  const body = bodyCandidates(parts.body)
  const candidates = [...pathCandidates(parts), ...queryCandidates(parts), ...headerCandidates(parts), ...body.candidates]
  const uses = new Map<string, number>()
  for (const candidate of candidates) uses.set(candidate.preferred, (uses.get(candidate.preferred) ?? 0) + 1)

  const properties: SchemaObject = {}
  const required: string[] = []
  const targets: ArgumentTarget[] = []
  const owners = new Map<string, Candidate>()
  let shape = body.shape
  for (const candidate of candidates) {
    const clash = (uses.get(candidate.preferred) ?? 0) > 1
    const { argument, schema } = clash ? renamed(candidate) : { argument: candidate.preferred, schema: candidate.schema }
    const owner = owners.get(argument)
    if (owner !== undefined) {
      throw new SchemaProblem(`the ${owner.part} field "${owner.field}" and the ${candidate.part} field "${candidate.field}" both become the argument "${argument}"`)
    }
    owners.set(argument, candidate)
    properties[argument] = schema
    // A required field with a default may be left out: the defaults are filled in before the route runs.
    if (candidate.required && !(isSchemaObject(schema) && 'default' in schema)) required.push(argument)
    targets.push({ argument, part: candidate.part, field: candidate.field })
    if (shape.kind === 'whole' && candidate.part === 'body') shape = { kind: 'whole', argument }
  }
  const schema: SchemaObject = { type: 'object', properties }
  if (required.length > 0) schema.required = required
  schema.additionalProperties = body.additional
  return { schema, targets, body: shape }
}
