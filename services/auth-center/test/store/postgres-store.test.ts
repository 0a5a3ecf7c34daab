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
const pg = await startMigratedPostgres([1, 2, 3, 4, 5, 6, 7])
t.teardown(() => pg.close())
const redis = await startRedis()
t.teardown(() => redis.close())

await storeContract(t, 'postgres', async () => {
  const { db } = await pg.fresh()
  const store = createPostgresStore(db)
  t.equal(store.driver, 'postgres')
  return { store, teardown: async () => { await store.close() } }
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
