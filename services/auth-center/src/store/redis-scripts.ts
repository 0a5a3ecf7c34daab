/**
 * Kept so imports written before the split (keys/, events/redis.ts, redis-target.ts)
 * still resolve: the Redis pieces live in ./redis/ now and the scripts with their
 * concern. New code imports ./redis/client.js.
 */
export type { RedisClient } from './redis/client.js'
