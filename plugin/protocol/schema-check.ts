import { Compile } from 'typebox/compile'
import { Value } from 'typebox/value'
import type { TSchema } from 'typebox'

/** A schema compiled once, when its definition is registered, and run on every call. */
export interface CompiledSchema {
  /** Returns the value with schema defaults filled in (a copy when any were), or the list of problems. */
  check: (value: unknown) => { ok: true, value: unknown } | { ok: false, problems: string }
}

function hasDefaults (schema: unknown): boolean {
  if (typeof schema !== 'object' || schema === null) return false
  if (Object.hasOwn(schema, 'default')) return true
  return Object.values(schema).some(hasDefaults)
}

/** Each failing path and why, e.g. `/b must be number; (root) must have required properties a`. */
function describeProblems (errors: Iterable<{ instancePath: string, message: string }>): string {
  const lines = new Set<string>()
  for (const error of errors) lines.add(`${error.instancePath === '' ? '(root)' : error.instancePath} ${error.message}`)
  return [...lines].join('; ')
}

export function compileSchema (schema: TSchema): CompiledSchema {
  const validator = Compile(schema)
  const fillDefaults = hasDefaults(schema)
  return {
    check (value) {
      const candidate = fillDefaults ? Value.Default(schema, Value.Clone(value)) : value
      if (validator.Check(candidate)) return { ok: true, value: candidate }
      return { ok: false, problems: describeProblems(validator.Errors(candidate)) }
    }
  }
}

export function isObjectSchema (schema: unknown): boolean {
  return typeof schema === 'object' && schema !== null && (schema as { type?: unknown }).type === 'object'
}
