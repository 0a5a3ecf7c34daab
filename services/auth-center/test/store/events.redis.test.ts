import { once } from 'node:events'
import { randomUUID } from 'node:crypto'
import t from 'tap'
import { Redis } from 'ioredis'
import { startRedis } from '@authcenter/testkit'
import { redisClientOptions } from '../../src/store/index.js'
import { createRedisEvents } from '../../src/store/events/redis.js'
import { eventsContract } from './events.contract.js'

const server = await startRedis()
t.teardown(() => server.close())
const client = new Redis(server.url, redisClientOptions)
client.on('error', () => {})
await once(client, 'ready')
t.teardown(async () => { await client.quit() })

// A fresh prefix per store: subtests share one server but never each other's keys.
await eventsContract(t, 'redis', async () => ({ events: createRedisEvents(client, { prefix: `t:${randomUUID()}:` }), teardown: async () => {} }))

t.test('redis: a user\'s set keeps maxEventsPerUser; pruneEvents trims the global set to maxEvents, in the users\' sets too', async (t) => {
  const prefix = `t:${randomUUID()}:`
  const events = createRedisEvents(client, { prefix, maxEvents: 6, maxEventsPerUser: 4 })
  for (let i = 0; i < 10; i++) await events.recordEvent({ at: 1000 + i, type: 'login', userId: i % 2 === 0 ? 'a' : 'b', reason: String(i) })
  const reasons = async (userId?: string): Promise<string[]> => (await events.queryEvents({ userId, limit: 20 })).events.map((e) => e.reason!)
  t.strictSame(await reasons('a'), ['8', '6', '4', '2'])
  t.strictSame(await reasons(), ['9', '8', '7', '6', '5', '4', '3', '2', '1', '0'])
  t.equal(await events.pruneEvents(0), 4)
  t.strictSame(await reasons(), ['9', '8', '7', '6', '5', '4'])
  t.strictSame(await reasons('b'), ['9', '7', '5'])
  t.strictSame(await reasons('a'), ['8', '6', '4'])
  t.strictSame((await client.keys(`${prefix}*`)).sort(), [`${prefix}events`, `${prefix}u:{a}:events`, `${prefix}u:{b}:events`])
})
