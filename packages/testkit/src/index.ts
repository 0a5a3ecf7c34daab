export { startRedis, type RedisServer } from './redis-server.js'
export { freePort } from './free-port.js'
