import type { DpopReplayCache } from './dpop.js'

/** The one command the Redis replay cache needs, as ioredis (and node-redis v4 with `legacyMode`) spells it. */
export interface RedisReplayClient {
  set: (key: string, value: string, px: 'PX', ms: number, nx: 'NX') => Promise<'OK' | null | string>
}

/**
 * A DPoP replay cache in a Redis the service owns, so that the replicas of one service
 * refuse a proof any of them has already seen: one `SET key 1 PX ttl NX` per proof, an
 * atomic check-and-mark (the first replica to set the key wins, every other sees it taken).
 * Keys expire when the proof could no longer pass the `iat` window, so Redis holds only
 * live ones. The client is yours (never closed here); configure it to fail in bounded time
 * (`commandTimeout`): a failure rejects, and the request fails instead of skipping the check.
 *
 * @example
 * ```ts
 * import Redis from 'ioredis'
 * import { createRedisReplayCache } from '@authcenter/verifier/dpop'
 * const verify = createVerifier({ issuer, audience, dpop: { replay: createRedisReplayCache(new Redis(url), { prefix: 'orders:dpop:' }) } })
 * ```
 */
export function createRedisReplayCache (redis: RedisReplayClient, options: { prefix?: string } = {}): DpopReplayCache {
  if (typeof redis !== 'object' || redis === null || typeof redis.set !== 'function') throw new TypeError('createRedisReplayCache: a Redis client with set() is required')
  const prefix = options.prefix ?? 'dpop:'
  if (typeof prefix !== 'string') throw new TypeError('createRedisReplayCache: "prefix" must be a string')
  return {
    async checkAndMark (key, expiresAtMs) {
      // At least 1 ms: PX 0 is an error, and a proof at the edge of its window is still marked.
      const ttl = Math.max(1, Math.ceil(expiresAtMs - Date.now()))
      return (await redis.set(prefix + key, '1', 'PX', ttl, 'NX')) === 'OK'
    }
  }
}
