export { startRedis, type RedisServer } from './redis-server.js'
export { freePort } from './free-port.js'
export { startRedisCluster, type RedisCluster, type RedisNode, type MasterTarget, type StartRedisClusterOptions } from './redis-cluster.js'
export { startRedisSentinel, type RedisSentinel, type StartRedisSentinelOptions } from './redis-sentinel.js'
