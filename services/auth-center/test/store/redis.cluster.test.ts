import { once } from 'node:events'
import type { Cluster } from 'ioredis'
import t from 'tap'
import { startRedisCluster } from '@authcenter/testkit'
import { redisClientOptions } from '../../src/store/redis/client.js'
import { connectRedis } from '../../src/store/redis-target.js'
import { redisContracts } from './redis-topology.js'

// The Redis drivers' contracts on a real Redis Cluster (3 masters, 3 replicas), through
// the client the app makes for REDIS_CLUSTER_NODES: every script in one slot.
const cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 })
t.teardown(() => cluster.close())
const client = connectRedis({ kind: 'cluster', nodes: [...cluster.nodes] }, redisClientOptions)
client.on('error', () => {})
await once(client, 'ready')
t.teardown(() => client.quit())
// 'ready' is the slot map; each master's own connection opens on first use, and with the
// offline queue off (fail fast: 503) a burst sent before it is up is refused. Open them all.
await Promise.all((client as Cluster).nodes('master').map(async (node) => await node.ping()))

await redisContracts(t, 'redis cluster', client)
