import { once } from 'node:events'
import { randomUUID } from 'node:crypto'
import t from 'tap'
import { Redis } from 'ioredis'
import { startRedis } from '@authcenter/testkit'
import { redisClientOptions } from '../../src/store/index.js'
import { createPostgresStore } from '../../src/store/postgres-store.js'
import { storeContract } from './contracts.js'
import { startMigratedPostgres } from './pg-template.js'

// Every migration: the store composes every concern's PostgreSQL driver.
const pg = await startMigratedPostgres([1, 2, 3, 4, 5, 6, 7, 8])
t.teardown(() => pg.close())
const redis = await startRedis()
t.teardown(() => redis.close())

// PostgreSQL alone is each concern's PostgreSQL driver, and each runs its contract in
// test/store/<concern>.postgres.test.ts; here only that the composition is that one.
t.test('postgres alone: every concern in PostgreSQL, nothing elsewhere', async (t) => {
  const { db } = await pg.fresh()
  const store = createPostgresStore(db)
  t.teardown(async () => { await store.close() })
  t.equal(store.driver, 'postgres')
  await store.ping()
  const { user } = await store.getOrCreateUserByMobile('+8613800000001', { id: 'u1', mobile: '+8613800000001', createdAt: 1 })
  await store.createSession({ id: 's1', userId: user.id, clientId: 'app', createdAt: 1, lastUsedAt: 1, expiresAt: Date.now() + 60_000, refreshGen: 1, rotatedAt: 0, refreshNonce: 'n' })
  await store.hit('k', 5, 60_000)
  await store.setConsent(user.id, { clientId: 'c1', scope: 'openid', grantedAt: 1 })
  for (const [table, n] of [['ac_users', 1], ['ac_sessions', 1], ['ac_counters', 1], ['ac_consents', 1]] as const) {
    t.strictSame((await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows, [{ n }], table)
  }
})

await storeContract(t, 'postgres+redis', async () => {
  const { db } = await pg.fresh()
  const client = new Redis(redis.url, redisClientOptions)
  client.on('error', () => {})
  await once(client, 'ready')
  // A fresh prefix per store: the fixtures share one Redis but never each other's keys.
  const store = createPostgresStore(db, { redis: client, prefix: `t:${randomUUID()}:` })
  t.equal(store.driver, 'postgres+redis')
  return { store, teardown: async () => { await store.close(); client.disconnect() } }
})

t.test('postgres+redis: consents in PostgreSQL, authorization codes in Redis', async (t) => {
  const { db } = await pg.fresh()
  const client = new Redis(redis.url, redisClientOptions)
  client.on('error', () => {})
  await once(client, 'ready')
  const prefix = `t:${randomUUID()}:`
  const store = createPostgresStore(db, { redis: client, prefix })
  t.teardown(async () => { await store.close(); client.disconnect() })
  await store.setConsent('u1', { clientId: 'c1', scope: 'openid', grantedAt: 1 })
  t.strictSame((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM ac_consents')).rows, [{ n: 1 }])
  await store.saveAuthCode('code1', { clientId: 'c1', redirectUri: 'http://localhost/cb', codeChallenge: 'x', scope: 'openid', userId: 'u1', authTime: 1 }, 60_000)
  t.strictSame((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM ac_auth_codes')).rows, [{ n: 0 }], 'the code is not in PostgreSQL')
  t.ok((await client.keys(`${prefix}*`)).length > 0, 'it is in Redis')
})
