import t from 'tap'
import { startRedis } from '@authcenter/testkit'
import { startAuthCenter } from '../helpers/auth-center.js'
import { checkStoreOutage } from '../helpers/store-outage.js'

t.test('Redis stopping answers 503 STORE_UNAVAILABLE within 2 s, and the service recovers when it returns', async (t) => {
  const redis = await startRedis({ persist: true })
  t.teardown(() => redis.close())
  const ac = await startAuthCenter({ REDIS_URL: redis.url })
  t.teardown(() => ac.close())

  await checkStoreOutage(t, ac, redis)
})
