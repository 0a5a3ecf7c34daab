import { once } from 'node:events'
import t from 'tap'
import { startRedisCluster } from '@authcenter/testkit'
import { redisClientOptions } from '../../src/store/redis/client.js'
import { connectRedis, connectMasters } from '../../src/store/redis-target.js'
import { redisContracts } from './redis-topology.js'

// The Redis drivers' contracts on a real Redis Cluster (3 masters, 3 replicas), through
// the client the app makes for REDIS_CLUSTER_NODES: every script in one slot.
const cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 })
t.teardown(() => cluster.close())
const client = connectRedis({ kind: 'cluster', nodes: [...cluster.nodes] }, redisClientOptions)
client.on('error', () => {})
await once(client, 'ready')
t.teardown(() => client.quit())
// As the app does before it listens (connectMasters, redis-target.ts).
t.same(await connectMasters(client), [], 'every master answered')

await redisContracts(t, 'redis cluster', client)
