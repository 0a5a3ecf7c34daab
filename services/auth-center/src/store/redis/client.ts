import type { Cluster, Redis, RedisOptions } from 'ioredis'

/** The client the Redis drivers are lent (the app's @fastify/redis owns and quits it). */
export type RedisClient = Redis | Cluster

/**
 * ioredis options for the client the app hands to `createRedisStore` (pass them to
 * `@fastify/redis` beside `url`). The goal: while Redis is down a request fails
 * with StoreUnavailableError within 2 s instead of hanging, and once Redis is back
 * the same client works again without a restart.
 *
 * - `enableOfflineQueue: false`: while disconnected, commands fail at once instead
 *   of queueing until some later reconnect.
 * - `commandTimeout: 900`: a connected but unresponsive server fails a command in
 *   0.9 s; no store method waits on more than two round trips in a row.
 * - `socketTimeout: 2000`: a connection that stays silent with commands pending
 *   (hung server, half-open TCP after a network cut) is dropped and made again,
 *   instead of timing out every command until TCP keep-alive notices.
 * - `maxRetriesPerRequest: 0`, `autoResendUnfulfilledCommands: false`: a command in
 *   flight when the connection drops fails instead of being sent again after the
 *   reconnect: it may have run already, and our scripts are not idempotent (a
 *   resent rotation or code check would count twice).
 * - `retryStrategy`: reconnect quickly (100 ms steps, at most 1 s apart), forever.
 * - `reconnectOnError`: after a failover the old primary answers READONLY; reconnect
 *   (to the new primary, under Sentinel) instead of failing every write.
 *
 * @example
 * await fastify.register(fastifyRedis, { url: config.redisUrl, ...redisClientOptions })
 * const store = createRedisStore(fastify.redis)
 */
export const redisClientOptions = {
  enableOfflineQueue: false,
  commandTimeout: 900,
  socketTimeout: 2000,
  connectTimeout: 1500,
  maxRetriesPerRequest: 0,
  autoResendUnfulfilledCommands: false,
  retryStrategy: (times: number): number => Math.min(times * 100, 1000),
  reconnectOnError: (err: Error): boolean => err.message.startsWith('READONLY'),
  lazyConnect: false
} satisfies RedisOptions

/** The key prefix of every Redis driver (default `ac:`), so several apps can share one Redis. */
export function redisPrefix (prefix: unknown, who: string): string {
  if (prefix === undefined) return 'ac:'
  if (typeof prefix !== 'string') throw new TypeError(`${who}: prefix must be a string`)
  return prefix
}
