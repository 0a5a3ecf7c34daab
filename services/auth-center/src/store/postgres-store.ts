import type { OAuthStore, Store } from './store.js'
import { composeStore, type StoreBackend } from './compose.js'
import { DEFAULT_DENY_TTL_MS, assertDenyTtl } from './denylist.js'
import type { Postgres } from './postgres/pool.js'
import { redisPrefix, type RedisClient } from './redis/client.js'
import { io } from './redis/script.js'
import { createPostgresUsers } from './users/postgres.js'
import { createPostgresSessions } from './sessions/postgres.js'
import { createPostgresCodes } from './codes/postgres.js'
import { createPostgresOAuth } from './oauth/postgres.js'
import { createPostgresClients } from './clients/postgres.js'
import { createPostgresEvents } from './events/postgres.js'
import { createRedisSessions } from './sessions/redis.js'
import { createRedisCodes } from './codes/redis.js'
import { createRedisOAuth } from './oauth/redis.js'

export interface PostgresStoreOptions {
  /** Longest access-token lifetime + clock tolerance (see RedisStoreOptions.denyTtlMs). */
  denyTtlMs?: number
  /** With a Redis, the hot state (sessions, denylist, codes, counters, authorization codes) lives there. */
  redis?: RedisClient
  /** Redis key prefix (default `ac:`). */
  prefix?: string
}

/**
 * The store on PostgreSQL (migrated first: postgres/migrate.ts). Alone, every concern's
 * PostgreSQL driver; with a Redis (`postgres+redis`), what must survive anything (users,
 * clients, consents, events) stays in PostgreSQL and what is hot and short-lived
 * (sessions with the denylist and epoch, SMS codes and counters, authorization codes)
 * goes to Redis. The oauth concern is split along that line: codes in Redis, consents in
 * PostgreSQL. The pool is the store's own (closed with it); the Redis client is lent.
 */
export function createPostgresStore (db: Postgres, opts: PostgresStoreOptions = {}): Store {
  const denyTtlMs = opts.denyTtlMs ?? DEFAULT_DENY_TTL_MS
  assertDenyTtl(denyTtlMs, 'createPostgresStore')
  const pgBackend: StoreBackend = { ping: async () => { await db.ping() }, close: async () => { await db.close() } }
  const durable = { users: createPostgresUsers(db), clients: createPostgresClients(db), events: createPostgresEvents(db) }
  const pgOAuth = createPostgresOAuth(db)

  const client = opts.redis
  if (client === undefined) {
    const sessions = createPostgresSessions(db, { denyTtlMs })
    return composeStore('postgres', { ...durable, sessions, codes: createPostgresCodes(db), oauth: pgOAuth }, [pgBackend], [
      async () => { await sessions.closeSessions() }
    ])
  }

  const prefix = redisPrefix(opts.prefix, 'createPostgresStore')
  const sessions = createRedisSessions(client, { prefix, denyTtlMs })
  const redisOAuth = createRedisOAuth(client, { prefix })
  const oauth: OAuthStore = {
    saveAuthCode: redisOAuth.saveAuthCode.bind(redisOAuth),
    takeAuthCode: redisOAuth.takeAuthCode.bind(redisOAuth),
    bindAuthCode: redisOAuth.bindAuthCode.bind(redisOAuth),
    replayAuthCode: redisOAuth.replayAuthCode.bind(redisOAuth),
    setConsent: pgOAuth.setConsent.bind(pgOAuth),
    getConsent: pgOAuth.getConsent.bind(pgOAuth),
    listConsents: pgOAuth.listConsents.bind(pgOAuth),
    deleteConsent: pgOAuth.deleteConsent.bind(pgOAuth)
  }
  return composeStore('postgres+redis', { ...durable, sessions, codes: createRedisCodes(client, { prefix }), oauth }, [
    pgBackend,
    { ping: async () => { await io(async () => await client.ping()) }, close: async () => {} }
  ], [
    async () => { await sessions[Symbol.asyncDispose]() }
  ])
}
