import { createRequire } from 'node:module'
import type { FastifyServerOptions } from 'fastify'

type CompilersFactory = Required<NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>>
type AnyFactory = (...args: unknown[]) => unknown

/** Fastify's own dependencies, resolved from Fastify so that any install layout finds the copies it would use. */
const requireFromFastify = createRequire(createRequire(import.meta.url).resolve('fastify'))

/** A compiler factory that loads Fastify's default one on first use and hands every call to it. */
function loadedOnFirstUse (specifier: string): AnyFactory {
  let factory: AnyFactory | undefined
  return (...args) => {
    factory ??= (requireFromFastify(specifier) as () => AnyFactory)()
    return factory(...args)
  }
}

/**
 * Fastify's default route-schema compilers (Ajv and fast-json-stringify), loaded only when a route with a schema
 * is compiled. Fastify loads them when the instance is made, a sizeable part of `node server`'s start-up, and the
 * MCP routes declare no schemas: the tool layer validates with TypeBox.
 */
export const schemaCompilersOnFirstUse: CompilersFactory = {
  buildValidator: loadedOnFirstUse('@fastify/ajv-compiler') as CompilersFactory['buildValidator'],
  buildSerializer: loadedOnFirstUse('@fastify/fast-json-stringify-compiler') as CompilersFactory['buildSerializer']
}
