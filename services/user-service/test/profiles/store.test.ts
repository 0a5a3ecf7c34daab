import { randomUUID } from 'node:crypto'
import t from 'tap'
import { Redis } from 'ioredis'
import pg from 'pg'
import { startPostgres, startRedis } from '@authcenter/testkit'
import { createPostgresProfileStore, type PostgresProfileStore } from '../../src/profiles/postgres-store.js'
import { createMemoryProfileStore } from '../../src/profiles/memory-store.js'
import { createRedisProfileStore } from '../../src/profiles/redis-store.js'
import { profileStoreContract } from './store.contract.js'

t.test('memory driver', async (t) => {
  profileStoreContract(t, () => createMemoryProfileStore())
})

t.test('redis driver', async (t) => {
  const redis = await startRedis()
  const client = new Redis(redis.url, { commandTimeout: 1000, maxRetriesPerRequest: 1 })
  client.on('error', () => {}) // reconnect attempts during the outage test
  t.teardown(async () => {
    client.disconnect()
    await redis.close()
  })

  profileStoreContract(t, () => createRedisProfileStore(client, { prefix: `test:${randomUUID()}:` }))

  t.test('stores one hash per user under the prefix', async (t) => {
    const store = createRedisProfileStore(client, { prefix: 'layout:' })
    await store.upsert('9', { username: 'nine', avatar: 'n.png' })
    t.match(await client.hgetall('layout:9'), { username: 'nine', avatar: 'n.png', updated_at: String })
  })

  t.test('a Redis outage is STORE_UNAVAILABLE, in bounded time, and service resumes after', async (t) => {
    const store = createRedisProfileStore(client, { prefix: 'outage:' })
    await store.upsert('1', { username: 'before' })
    await redis.stop()
    const started = Date.now()
    await t.rejects(store.get('1'), { code: 'STORE_UNAVAILABLE', statusCode: 503 })
    await t.rejects(store.upsert('1', { username: 'during' }), { code: 'STORE_UNAVAILABLE' })
    t.ok(Date.now() - started < 5000, 'failed within the command timeout')
    await redis.start()
    // ioredis reconnects on its own; the data did not persist (no AOF), the store works again.
    const deadline = Date.now() + 10_000
    let ok = false
    while (!ok && Date.now() < deadline) {
      ok = await store.upsert('1', { username: 'after' }).then(() => true, () => false)
      if (!ok) await new Promise((resolve) => setTimeout(resolve, 100))
    }
    t.ok(ok, 'works again after Redis came back')
    t.equal((await store.get('1'))?.username, 'after')
  })
})

t.test('postgres driver', async (t) => {
  const pgServer = await startPostgres()
  const stores: PostgresProfileStore[] = []
  t.teardown(async () => {
    for (const s of stores) await s.close()
    await pgServer.close()
  })
  const make = async (url?: string): Promise<PostgresProfileStore> => {
    const store = await createPostgresProfileStore(url ?? await pgServer.newDatabase())
    stores.push(store)
    return store
  }

  profileStoreContract(t, () => make())

  t.test('migrations run once: a second store on the same database keeps the rows', async (t) => {
    const url = await pgServer.newDatabase()
    const first = await make(url)
    await first.upsert('7', { username: 'seven' })
    const second = await make(url)
    t.equal((await second.get('7'))?.username, 'seven')
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    t.teardown(() => client.end())
    t.same((await client.query('SELECT version FROM user_service_migrations ORDER BY version')).rows, [{ version: 1 }])
  })

  t.test('a PostgreSQL outage is STORE_UNAVAILABLE, and service resumes after', async (t) => {
    const store = await make()
    await store.upsert('1', { username: 'before' })
    await pgServer.stop()
    await t.rejects(store.get('1'), { code: 'STORE_UNAVAILABLE', statusCode: 503 })
    await t.rejects(store.upsert('1', { username: 'during' }), { code: 'STORE_UNAVAILABLE' })
    await pgServer.start()
    t.equal((await store.get('1'))?.username, 'before', 'the data persisted')
    await store.upsert('1', { username: 'after' })
    t.equal((await store.get('1'))?.username, 'after')
  })
})
