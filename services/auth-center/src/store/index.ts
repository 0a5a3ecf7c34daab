export type {
  RateResult, RotateInput, RotateResult, RotateStatus, Session, SmsCheckResult, SmsIssueResult, Store, User
} from './store.js'
export { createMemoryStore, type MemoryStoreOptions } from './memory-store.js'
export { createRedisStore, redisClientOptions, type RedisStoreOptions } from './redis-store.js'
export type { RedisClient } from './redis/client.js'
