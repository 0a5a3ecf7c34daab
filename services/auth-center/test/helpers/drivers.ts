import type { Test } from 'tap'
import { startRedis, type RedisServer } from '@authcenter/testkit'

/**
 * Runs `fn` once against the memory driver and once against a real redis-server
 * started for this test, so every route behaves the same on both.
 */
export async function eachDriver (t: Test, fn: (t: Test, env: Record<string, string>, redis?: RedisServer) => Promise<void>): Promise<void> {
  await t.test('memory store', (t) => fn(t, {}))
  await t.test('redis store', async (t) => {
    const redis = await startRedis()
    t.teardown(() => redis.close())
    await fn(t, { REDIS_URL: redis.url }, redis)
  })
}
