import { once } from 'node:events'
import { randomUUID } from 'node:crypto'
import t from 'tap'
import { Redis } from 'ioredis'
import { startRedis } from '@authcenter/testkit'
import { redisClientOptions } from '../../src/store/redis/client.js'
import { createMemorySessions } from '../../src/store/sessions/memory.js'
import { createRedisSessions } from '../../src/store/sessions/redis.js'
import { lostRotationCase } from './lost-rotation.js'

await lostRotationCase(t, 'memory', async () => {
  const sessions = createMemorySessions()
  return { sessions, teardown: async () => { await sessions[Symbol.asyncDispose]() } }
})

const server = await startRedis()
t.teardown(() => server.close())
const client = new Redis(server.url, redisClientOptions)
client.on('error', () => {})
await once(client, 'ready')
t.teardown(() => client.quit())
await lostRotationCase(t, 'redis', async () => {
  const sessions = createRedisSessions(client, { prefix: `t:${randomUUID()}:` })
  return { sessions, teardown: async () => { await sessions[Symbol.asyncDispose]() } }
})
