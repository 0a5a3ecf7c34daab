import type { Store } from './store.js'
import { composeStore } from './compose.js'
import { DEFAULT_DENY_TTL_MS, assertDenyTtl } from './denylist.js'
import { redisPrefix, type RedisClient } from './redis/client.js'
import { io } from './redis/script.js'
import { createRedisUsers } from './users/redis.js'
import { createRedisSessions } from './sessions/redis.js'
import { createRedisCodes } from './codes/redis.js'
import { createRedisOAuth } from './oauth/redis.js'
import { createRedisClients } from './clients/redis.js'
import { createRedisEvents } from './events/redis.js'

export { redisClientOptions } from './redis/client.js'

export interface RedisStoreOptions {
  /**
   * Prepended to every key (default `ac:`), so several apps can share one Redis. The
   * revocation feed keys (`<prefix>deny`, `<prefix>deny:exp`, `<prefix>epoch`, channel
   * `<prefix>revocations`) use it too: verifiers must be given the same prefix.
   */
  prefix?: string
  /**
   * How long a denylist entry lives after its revocation: the longest access-token
   * lifetime of any client + clock tolerance (default 2 min + 5 s). The app passes it.
   */
  denyTtlMs?: number
  /** About how many revocations the feed log (`<prefix>deny:log`, a Redis Stream) keeps for resuming readers (default 10,000). */
  feedLogMax?: number
}

/**
 * Every concern's Redis driver (users/redis.ts, sessions/redis.ts, …) on one lent client;
 * each driver's header has its key layout. Every decision (rotation, reuse, revocation,
 * code check, first login) reads and writes ONE key, or keys of one hash tag, so each is
 * one script in one slot; only the revocation feed's keys are shared (see sessions/redis.ts).
 * The client was lent to us (the app's @fastify/redis owns and quits it): `close` leaves
 * it open and closes only the sessions driver's follower connection.
 *
 * @example
 * const store = createRedisStore(fastify.redis, { prefix: 'ac:' })
 */
export function createRedisStore (client: RedisClient, opts: RedisStoreOptions = {}): Store {
  const prefix = redisPrefix(opts.prefix, 'createRedisStore')
  const denyTtlMs = opts.denyTtlMs ?? DEFAULT_DENY_TTL_MS
  assertDenyTtl(denyTtlMs, 'createRedisStore')
  const sessions = createRedisSessions(client, { prefix, denyTtlMs, ...(opts.feedLogMax !== undefined ? { feedLogMax: opts.feedLogMax } : {}) })
  return composeStore('redis', {
    users: createRedisUsers(client, { prefix }),
    sessions,
    codes: createRedisCodes(client, { prefix }),
    oauth: createRedisOAuth(client, { prefix }),
    clients: createRedisClients(client, { prefix }),
    events: createRedisEvents(client, { prefix })
  }, [{
    ping: async () => { await io(async () => await client.ping()) },
    close: async () => {}
  }], [
    async () => { await sessions[Symbol.asyncDispose]() }
  ])
}
