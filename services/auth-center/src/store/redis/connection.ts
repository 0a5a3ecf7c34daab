import type { FastifyInstance } from 'fastify'

/**
 * Listens to the store's Redis connection for the app's lifetime. @fastify/redis drops its
 * own `error` listener once connected, and an ioredis client nobody listens to prints
 * "[ioredis] Unhandled error event" for every failed reconnect. Requests already answer
 * 503 STORE_UNAVAILABLE during an outage, so the log says it once when the connection is
 * lost and once when it is back.
 */
export function watchConnection (app: FastifyInstance): void {
  let down = false
  app.redis.on('error', (err: Error) => {
    if (down) return
    down = true
    app.log.warn({ err: err.message }, 'redis: connection lost, reconnecting (requests answer 503 STORE_UNAVAILABLE meanwhile)')
  })
  app.redis.on('ready', () => {
    if (!down) return
    down = false
    app.log.info('redis: connected again')
  })
}
