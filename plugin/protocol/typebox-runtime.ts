/**
 * The parts of TypeBox the host itself runs (the builders its option schema uses, the schema compiler for every
 * definition, the interpreter for the options, checked once), in one module of their own: the build replaces this file's output with a single-file bundle of
 * exactly these exports (scripts/bundle-typebox.mjs), because loading TypeBox's ~700 small ES modules one by one
 * costs about 200 ms of start-up. Named builders rather than the `Type` namespace, which would bring in all of
 * TypeBox's type engine and its TypeScript-syntax parser (twice the code to compile at start). Users' own
 * `import { Type } from 'typebox'` is unaffected: schemas are plain JSON Schema objects either way.
 *
 * So the published dist/plugin/protocol/typebox-runtime.js is vendored TypeBox code: its first line says GENERATED
 * and names the typebox version it was built from, and test/protocol/typebox-runtime.test.ts proves it is that of
 * the installed `typebox`, exports exactly the names below and judges values as the installed compiler does.
 */
export { Array, Boolean, Integer, Literal, Object, Optional, String, Union } from 'typebox/type'
export { Check, Compile, Errors } from 'typebox/schema'
