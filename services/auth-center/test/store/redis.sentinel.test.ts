import { once } from 'node:events'
import t from 'tap'
import { startRedisSentinel } from '@authcenter/testkit'
import { loadConfig } from '../../src/config.js'
import { redisClientOptions } from '../../src/store/redis/client.js'
import { connectRedis } from '../../src/store/redis-target.js'
import { redisContracts } from './redis-topology.js'

// The Redis drivers' contracts on a real Sentinel setup (master, replica, three
// sentinels), through the client the app makes for REDIS_SENTINELS.
const sentinel = await startRedisSentinel()
t.teardown(() => sentinel.close())
const { redis } = loadConfig({ REDIS_SENTINELS: sentinel.sentinels, REDIS_SENTINEL_MASTER: sentinel.masterName })
const client = connectRedis(redis!, redisClientOptions)
client.on('error', () => {})
await once(client, 'ready')
t.teardown(() => client.quit())

await redisContracts(t, 'redis sentinel', client)
