import { randomUUID } from 'node:crypto'
import type { Test } from 'tap'
import type { RedisClient } from '../../src/store/redis/client.js'
import { createRedisClients } from '../../src/store/clients/redis.js'
import { createRedisCodes } from '../../src/store/codes/redis.js'
import { createRedisEvents } from '../../src/store/events/redis.js'
import { createRedisOAuth } from '../../src/store/oauth/redis.js'
import { createRedisSessions } from '../../src/store/sessions/redis.js'
import { createRedisUsers } from '../../src/store/users/redis.js'
import { clientsContract } from './clients.contract.js'
import { lostRotationCase } from './lost-rotation.js'
import { codesContract } from './codes.contract.js'
import { eventsContract } from './events.contract.js'
import { oauthContract } from './oauth.contract.js'
import { sessionsContract } from './sessions.contract.js'
import { usersContract } from './users.contract.js'

/**
 * The Redis drivers' contracts through one client of a topology (a Cluster, Sentinel),
 * each concern's driver on its own, each store under a fresh prefix so subtests never
 * share keys.
 */
export async function redisContracts (t: Test, name: string, client: RedisClient): Promise<void> {
  const prefix = (): string => `t:${randomUUID()}:`
  await usersContract(t, name, async () => ({ users: createRedisUsers(client, { prefix: prefix() }), teardown: async () => {} }))
  await sessionsContract(t, name, async () => {
    const sessions = createRedisSessions(client, { prefix: prefix() })
    return { sessions, teardown: async () => { await sessions[Symbol.asyncDispose]() } }
  })
  await lostRotationCase(t, name, async () => {
    const sessions = createRedisSessions(client, { prefix: prefix() })
    return { sessions, teardown: async () => { await sessions[Symbol.asyncDispose]() } }
  })
  await codesContract(t, name, async () => ({ codes: createRedisCodes(client, { prefix: prefix() }), teardown: async () => {} }))
  await oauthContract(t, name, async () => ({ oauth: createRedisOAuth(client, { prefix: prefix() }), teardown: async () => {} }))
  await clientsContract(t, name, async () => ({ clients: createRedisClients(client, { prefix: prefix() }), teardown: async () => {} }))
  await eventsContract(t, name, async () => ({ events: createRedisEvents(client, { prefix: prefix() }), teardown: async () => {} }))
}
