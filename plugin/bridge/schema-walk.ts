/** Walking JSON Schema by keyword, so that data (`enum`, `default`, a property named `$ref`) is never taken for schema. */
export type SchemaObject = Record<string, unknown>

/** Keywords whose value maps names to schemas. */
const SCHEMA_MAPS = new Set(['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas'])
/** Keywords whose value is a list of schemas. */
const SCHEMA_LISTS = new Set(['allOf', 'anyOf', 'oneOf', 'prefixItems'])
/** Keywords whose value is one schema (`items` may also be a list, in older drafts). */
const SCHEMA_SINGLES = new Set([
  'additionalProperties', 'items', 'contains', 'not', 'if', 'then', 'else', 'propertyNames',
  'unevaluatedProperties', 'unevaluatedItems', 'additionalItems'
])

export function isSchemaObject (value: unknown): value is SchemaObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** A deep copy of plain data: own enumerable string keys only (TypeBox's and other libraries' symbols stay behind). */
export function copyData (value: unknown): unknown {
  if (Array.isArray(value)) return value.map(copyData)
  if (!isSchemaObject(value)) return value
  const out: SchemaObject = {}
  for (const key of Object.keys(value)) out[key] = copyData(value[key])
  return out
}

/**
 * A copy of one schema node in which every subschema is replaced by `visit(subschema)`; everything else is copied
 * as data. Only own enumerable string keys are copied.
 */
export function mapSubschemas (node: SchemaObject, visit: (child: unknown) => unknown): SchemaObject {
  const out: SchemaObject = {}
  for (const key of Object.keys(node)) {
    const value = node[key]
    if (SCHEMA_MAPS.has(key) && isSchemaObject(value)) {
      const map: SchemaObject = {}
      for (const name of Object.keys(value)) map[name] = visit(value[name])
      out[key] = map
    } else if (SCHEMA_LISTS.has(key) && Array.isArray(value)) {
      out[key] = value.map(visit)
    } else if (SCHEMA_SINGLES.has(key) && (isSchemaObject(value) || typeof value === 'boolean')) {
      out[key] = visit(value)
    } else if (key === 'items' && Array.isArray(value)) {
      out[key] = value.map(visit)
    } else {
      out[key] = copyData(value)
    }
  }
  return out
}

/** Whether a schema describes JSON objects (and only objects). */
export function isObjectType (schema: unknown): boolean {
  if (!isSchemaObject(schema)) return false
  if (schema.type === 'object') return true
  return schema.type === undefined && isSchemaObject(schema.properties)
}

/**
 * Whether values of this schema can travel in a URL: scalars, or, where `lists` is true (a query string, whose keys
 * may repeat), lists of scalars.
 */
export function fitsInUrl (schema: unknown, lists: boolean): boolean {
  if (!isSchemaObject(schema)) return schema === true
  const type = schema.type
  const types = Array.isArray(type) ? type : type === undefined ? [] : [type]
  if (types.includes('object') || isSchemaObject(schema.properties)) return false
  if (types.includes('array')) {
    if (!lists) return false
    if (schema.items !== undefined && !fitsInUrl(schema.items, false)) return false
  }
  for (const keyword of ['anyOf', 'oneOf', 'allOf']) {
    const members = schema[keyword]
    if (Array.isArray(members) && !members.every((member) => fitsInUrl(member, lists))) return false
  }
  return true
}
