import type { TSchema } from 'typebox'
import { Check, Compile, Errors } from './typebox-runtime.js'
import { cutShort } from './jsonrpc.js'

/** A schema compiled once, when its definition is registered, and run on every call. */
export interface CompiledSchema {
  /** Returns the value with schema defaults filled in (a copy when any were), or the list of problems. */
  check: (value: unknown) => { ok: true, value: unknown } | { ok: false, problems: string }
  /** The same check with each problem apart, by JSON pointer (for callers that name their own sources). */
  problems: (value: unknown) => { ok: true, value: unknown } | { ok: false, problems: Array<{ instancePath: string, message: string }> }
}

type SchemaNode = { properties?: Record<string, SchemaNode>, default?: unknown }

function hasDefaults (schema: unknown): boolean {
  if (typeof schema !== 'object' || schema === null) return false
  if (Object.hasOwn(schema, 'default')) return true
  return Object.values(schema).some(hasDefaults)
}

function isPlainObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * Fills in the `default` of every absent object property, at any depth, copying only the objects it changes so
 * the caller's value is never mutated.
 */
export function fillDefaults (schema: SchemaNode, value: unknown): unknown {
  if (schema.properties === undefined || !isPlainObject(value)) return value
  let out = value
  for (const [key, property] of Object.entries(schema.properties)) {
    const current = value[key]
    const next = current === undefined && Object.hasOwn(property, 'default')
      ? fillDefaults(property, structuredClone(property.default))
      : fillDefaults(property, current)
    if (next === current) continue
    if (out === value) out = { ...value }
    out[key] = next
  }
  return out
}

/**
 * Each failing path and why, e.g. `/b must be number; (root) must have required properties a`. TypeBox reports
 * at most 8 errors; a path is cut at 64 characters, since its keys are the client's.
 */
function describeProblems (errors: Iterable<{ instancePath: string, message: string }>): string {
  const lines = new Set<string>()
  for (const error of errors) lines.add(`${error.instancePath === '' ? '(root)' : cutShort(error.instancePath)} ${error.message}`)
  return [...lines].join('; ')
}

/** A schema checked by TypeBox's compiled validator: for what runs on every call. */
export function compileSchema (schema: TSchema): CompiledSchema {
  const validator = Compile(schema as Parameters<typeof Compile>[0])
  return checkWith(schema, (value) => validator.Check(value), (value) => validator.Errors(value)[1])
}

/**
 * A schema checked by TypeBox's interpreter: for values checked once or twice per process (the plugin's options),
 * where compiling the validator costs more start-up time (about 6 ms for the options schema) than it ever saves.
 */
export function interpretSchema (schema: TSchema): CompiledSchema {
  const node = schema as Parameters<typeof Check>[0]
  return checkWith(schema, (value) => Check(node, value), (value) => Errors(node, value)[1])
}

function checkWith (
  schema: TSchema,
  passes: (value: unknown) => boolean,
  errorsOf: (value: unknown) => Iterable<{ instancePath: string, message: string }>
): CompiledSchema {
  const withDefaults = hasDefaults(schema)
  const problems: CompiledSchema['problems'] = (value) => {
    const candidate = withDefaults ? fillDefaults(schema as SchemaNode, value) : value
    if (passes(candidate)) return { ok: true, value: candidate }
    return { ok: false, problems: [...errorsOf(candidate)].map(({ instancePath, message }) => ({ instancePath, message })) }
  }
  return {
    check (value) {
      const checked = problems(value)
      return checked.ok ? checked : { ok: false, problems: describeProblems(checked.problems) }
    },
    problems
  }
}

export function isObjectSchema (schema: unknown): boolean {
  return typeof schema === 'object' && schema !== null && (schema as { type?: unknown }).type === 'object'
}
