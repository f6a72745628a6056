/**
 * The parts of TypeBox the host itself runs (the schema builder for its options, the schema compiler for every
 * definition), in one module of their own: the build replaces this file's output with a single-file bundle
 * (scripts/bundle-typebox.mjs), because loading TypeBox's ~700 small ES modules one by one costs about 200 ms of
 * start-up, and the bundle about 10 ms. Users' own `import { Type } from 'typebox'` is unaffected: schemas are
 * plain JSON Schema objects either way.
 */
export { Type } from 'typebox'
export { Compile } from 'typebox/schema'
