/**
 * TypeBox's schema compiler, in one module of its own: the build replaces this file's output with a single-file
 * bundle of `typebox/schema` (scripts/bundle-typebox.mjs), because loading TypeBox's ~700 small ES modules one
 * by one costs about 90 ms of start-up, and the bundle about 9 ms.
 */
export { Compile } from 'typebox/schema'
