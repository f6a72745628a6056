import { createHash } from 'node:crypto'
import type { Redis } from 'ioredis'

/** A Lua script and how many of its arguments are keys. */
export interface RedisScript {
  readonly keys: number
  readonly lua: string
}

/**
 * Runs scripts by their SHA (EVALSHA), sending the source only when Redis does not know it yet (after a restart,
 * say): the common case sends a 40-byte hash, not the script.
 */
export function scriptRunner (commands: Redis): (script: RedisScript, keys: string[], args: Array<string | number>) => Promise<unknown> {
  const shas = new WeakMap<RedisScript, string>()
  return async function run (script, keys, args) {
    let sha = shas.get(script)
    if (sha === undefined) shas.set(script, sha = createHash('sha1').update(script.lua).digest('hex'))
    const argv = args.map(String)
    try {
      return await commands.evalsha(sha, script.keys, ...keys, ...argv)
    } catch (error) {
      if (!String((error as Error).message).startsWith('NOSCRIPT')) throw error
      return await commands.eval(script.lua, script.keys, ...keys, ...argv)
    }
  }
}

/** Now, in ms, by Redis's clock: the one clock every replica shares. */
export async function redisNow (commands: Redis): Promise<number> {
  const [seconds, micros] = await commands.time()
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000)
}
