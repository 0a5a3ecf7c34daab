import { once } from 'node:events'
import { randomUUID } from 'node:crypto'
import t, { type Test } from 'tap'
import { Redis } from 'ioredis'
import { startRedis } from '@authcenter/testkit'
import { createMemoryStore, createRedisStore, redisClientOptions, type Store } from '../../src/store/index.js'

/** The Store methods of the admin API's OAuth2 clients, on both drivers (kept apart from store.contract.ts). */
async function clientsContract (t: Test, store: Store): Promise<void> {
  const a = { clientId: 'a', createdAt: 1, registration: { client_id: 'a', type: 'public', redirect_uris: ['http://localhost/cb'] } }
  t.equal(await store.getClient('a'), null)
  t.strictSame(await store.listClients(), [])
  t.equal(await store.putClient(a, { ifAbsent: true }), true)
  t.equal(await store.putClient({ ...a, createdAt: 2 }, { ifAbsent: true }), false, 'ifAbsent: an existing client stays')
  t.strictSame(await store.getClient('a'), a)
  const b = { clientId: 'b', createdAt: 3, registration: { client_id: 'b' } }
  t.equal(await store.putClient(b), true)
  t.equal(await store.putClient({ ...b, createdAt: 4 }), true, 'without ifAbsent: replaced')
  t.strictSame((await store.listClients()).map((c) => `${c.clientId}:${c.createdAt}`), ['a:1', 'b:4'])

  await store.addClientSession('a', 's1')
  await store.addClientSession('a', 's2')
  await store.addClientSession('a', 's1')
  t.strictSame((await store.takeClientSessions('a')).sort(), ['s1', 's2'])
  t.strictSame(await store.takeClientSessions('a'), [], 'taken once')

  t.equal(await store.deleteClient('a'), true)
  t.equal(await store.deleteClient('a'), false)
  t.equal(await store.getClient('a'), null)
  t.strictSame((await store.listClients()).map((c) => c.clientId), ['b'])
}

t.test('memory driver', async (t) => {
  const store = createMemoryStore()
  t.teardown(() => store.close())
  await clientsContract(t, store)
})

t.test('redis driver', async (t) => {
  const server = await startRedis()
  t.teardown(() => server.close())
  const client = new Redis(server.url, redisClientOptions)
  client.on('error', () => {})
  await once(client, 'ready')
  const prefix = `t:${randomUUID()}:`
  const store = createRedisStore(client, { prefix })
  t.teardown(async () => { await store.close(); await client.quit() })
  await clientsContract(t, store)
  t.equal(await client.type(`${prefix}client:{b}`), 'string', 'one JSON value per client')
  t.strictSame(await client.smembers(`${prefix}clients`), ['b'], 'and a set index')
})
