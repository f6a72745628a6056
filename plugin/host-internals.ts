import type { FastifyInstance } from 'fastify'
import type { Dispatcher } from './dispatch/dispatcher.js'

/**
 * What the plugin keeps per Fastify instance beyond `fastify.mcp`, for the package's own code and tests (imported
 * by path, not part of the documented API).
 */
const dispatchers = new WeakMap<FastifyInstance, Dispatcher>()

export function rememberDispatcher (app: FastifyInstance, dispatcher: Dispatcher): void {
  dispatchers.set(app, dispatcher)
}

/** The dispatcher the plugin registered on `app`; undefined if it registered none. */
export function dispatcherOf (app: FastifyInstance): Dispatcher | undefined {
  return dispatchers.get(app)
}
