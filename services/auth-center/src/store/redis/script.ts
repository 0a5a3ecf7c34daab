import { createHash } from 'node:crypto'
import { StoreUnavailableError } from '../../errors.js'
import type { RedisClient } from './client.js'

/**
 * Lua scripts and the one place Redis failures become StoreUnavailableError, shared by
 * every Redis driver. Each script runs atomically on the server, so no other client sees
 * or interleaves with a half-made decision; each touches one key, or several keys
 * sharing one hash tag (same Cluster slot). The scripts themselves live with their
 * concern (users/redis.ts, sessions/redis-scripts.ts, …).
 *
 * Values for timestamps are passed through as the caller's strings rather than
 * computed in Lua: Lua turns large numbers into strings with 14 significant digits.
 */

export interface LuaScript {
  readonly lua: string
  readonly sha: string
}

export function script (lua: string): LuaScript {
  return { lua, sha: createHash('sha1').update(lua).digest('hex') }
}

/**
 * EVALSHA, and EVAL once when the server does not know the script (after a restart
 * or failover its script cache is empty). Defined here rather than with
 * `redis.defineCommand` so the store does not add methods to a client it was lent.
 */
export async function runScript (client: RedisClient, s: LuaScript, keys: string[], args: Array<string | number>): Promise<unknown> {
  try {
    return await client.evalsha(s.sha, keys.length, ...keys, ...args)
  } catch (err) {
    if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err
    return await client.eval(s.lua, keys.length, ...keys, ...args)
  }
}

/** Any failure to reach Redis as StoreUnavailableError (routes answer 503), keeping the cause. */
export async function io<T> (op: () => Promise<T>): Promise<T> {
  try {
    return await op()
  } catch (err) {
    const wrapped = new StoreUnavailableError()
    wrapped.cause = err
    throw wrapped
  }
}

/** A script run, failures as StoreUnavailableError. */
export async function run (client: RedisClient, s: LuaScript, keys: string[], args: Array<string | number>): Promise<unknown> {
  return await io(async () => await runScript(client, s, keys, args))
}
