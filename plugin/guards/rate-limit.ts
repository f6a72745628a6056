import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify'
import type { Redis } from 'ioredis'
import type { JsonRpcId } from '../protocol/jsonrpc.js'
import type { McpConfig } from '../options.js'
import { quotaKeyOf } from '../sessions/identity-cap.js'
import { refusals, type HttpRefusal } from '../transports/http/refusals.js'

type RateLimitSettings = NonNullable<McpConfig['rateLimit']>

/** Where the counters live in cluster mode: the host's Redis command connection, under its key prefix. */
export interface SharedCounters {
  redis: Redis
  keyPrefix: string
}

/** The hooks that enforce `rateLimit` on the MCP routes; absent when there is nothing to enforce. */
export interface RateLimitHooks {
  /** Requests per caller, before the body is read (after auth, which names the caller). */
  onRequest?: (request: FastifyRequest) => Promise<void>
  /** `tools/call` of a limited tool per caller, once the body says which tool. */
  preHandler?: (request: FastifyRequest) => Promise<void>
}

type Limiter = ReturnType<FastifyInstance['createRateLimit']>

function callOf (body: unknown): { tool: unknown, id: JsonRpcId | null } | undefined {
  if (typeof body !== 'object' || body === null) return undefined
  const message = body as { method?: unknown, params?: { name?: unknown }, id?: unknown }
  if (message.method !== 'tools/call') return undefined
  const id = typeof message.id === 'string' || typeof message.id === 'number' ? message.id : null
  return { tool: message.params?.name, id }
}

/**
 * Rate limits with @fastify/rate-limit (loaded only when `rateLimit` is set), keyed by caller as the session caps
 * are: the identity, or the client address without auth. Its counters are in this process, or in Redis in cluster
 * mode, so that a caller spread over the replicas has one budget. The library's own hooks and error bodies are not
 * used: the refusal must be the MCP routes' JSON-RPC error, with the request's id where the body gave one.
 * When the shared counters cannot be reached, requests pass (availability over the limit) and that is logged once
 * per outage.
 */
export async function createRateLimitHooks (
  scope: FastifyInstance, settings: RateLimitSettings, shared: SharedCounters | undefined, log: FastifyBaseLogger
): Promise<RateLimitHooks> {
  if (settings.max === undefined && settings.tools.length === 0) return {}
  const { fastifyRateLimit } = await import('@fastify/rate-limit')
  // `global: false`: no hook of its own on any route, here or in the host application.
  await scope.register(fastifyRateLimit, {
    global: false,
    ...(shared === undefined ? {} : { redis: shared.redis, nameSpace: `${shared.keyPrefix}rate-limit:` })
  })
  const timeWindow = settings.timeWindowMs
  let outage = false

  async function check (limiter: Limiter, request: FastifyRequest, refuse: (retryAfter: number) => HttpRefusal): Promise<void> {
    let verdict: Awaited<ReturnType<Limiter>>
    try {
      verdict = await limiter(request)
    } catch (error) {
      if (!outage) log.warn({ err: error }, 'Rate limits are not enforced: their counters in Redis are unreachable; requests pass until it is back')
      outage = true
      return
    }
    if (outage) log.info('Rate limits are enforced again: their counters in Redis are reachable')
    outage = false
    if (verdict.isAllowed || !verdict.isExceeded) return
    const retryAfter = Math.max(1, verdict.ttlInSeconds)
    request.log.warn({ key: verdict.key, limit: verdict.max, windowMs: timeWindow }, 'Request refused: the caller is over its rate limit')
    throw refuse(retryAfter)
  }

  const hooks: RateLimitHooks = {}
  if (settings.max !== undefined) {
    const max = settings.max
    const perCaller = scope.createRateLimit({ max, timeWindow, keyGenerator: (request) => `caller:${quotaKeyOf(request.mcpAuth, request.ip)}` })
    hooks.onRequest = async (request) => {
      await check(perCaller, request, (retryAfter) => refusals.rateLimited(max, timeWindow, retryAfter))
    }
  }
  if (settings.tools.length > 0) {
    const perTool = new Map<unknown, { max: number, limiter: Limiter }>()
    for (const { name, max } of settings.tools) {
      perTool.set(name, { max, limiter: scope.createRateLimit({ max, timeWindow, keyGenerator: (request) => `tool:${name}:${quotaKeyOf(request.mcpAuth, request.ip)}` }) })
    }
    hooks.preHandler = async (request) => {
      const call = callOf(request.body)
      const limit = call === undefined ? undefined : perTool.get(call.tool)
      if (call === undefined || limit === undefined) return
      await check(limit.limiter, request, (retryAfter) => refusals.toolRateLimited(String(call.tool), limit.max, timeWindow, retryAfter, call.id))
    }
  }
  return hooks
}
