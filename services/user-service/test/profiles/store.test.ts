import { randomUUID } from 'node:crypto'
import t from 'tap'
import { Redis } from 'ioredis'
import { startRedis } from '@authcenter/testkit'
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
