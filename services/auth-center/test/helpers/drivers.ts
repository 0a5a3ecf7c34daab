import tap, { type Test } from 'tap'
import { startPostgres, startRedis, type PostgresServer, type RedisServer } from '@authcenter/testkit'

export type DriverName = 'memory' | 'redis' | 'postgres' | 'postgres+redis'

let postgres: Promise<PostgresServer> | undefined

/**
 * One PostgreSQL server per test file, started on first use and stopped when the file
 * ends; each driver run gets a fresh database of it (the auth center migrates it at start).
 */
async function freshDatabase (): Promise<string> {
  if (postgres === undefined) {
    postgres = startPostgres()
    tap.teardown(async () => { await (await postgres!).close() })
  }
  return await (await postgres).newDatabase()
}

/**
 * Runs `fn` against every store configuration a deployment can choose, so every route
 * behaves the same on all of them: the memory driver, a real redis-server, PostgreSQL
 * alone (DATABASE_URL), and PostgreSQL + Redis (durable concerns in PostgreSQL, hot
 * ones in Redis). `redis` is the Redis server when the configuration has one.
 */
export async function eachDriver (t: Test, fn: (t: Test, env: Record<string, string>, redis?: RedisServer, driver?: DriverName) => Promise<void>): Promise<void> {
  await t.test('memory store', (t) => fn(t, {}, undefined, 'memory'))
  await t.test('redis store', async (t) => {
    const redis = await startRedis()
    t.teardown(() => redis.close())
    await fn(t, { REDIS_URL: redis.url }, redis, 'redis')
  })
  await t.test('postgres store', async (t) => {
    await fn(t, { DATABASE_URL: await freshDatabase() }, undefined, 'postgres')
  })
  await t.test('postgres+redis store', async (t) => {
    const redis = await startRedis()
    t.teardown(() => redis.close())
    await fn(t, { DATABASE_URL: await freshDatabase(), REDIS_URL: redis.url }, redis, 'postgres+redis')
  })
}
