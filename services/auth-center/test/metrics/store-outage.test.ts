// Store latency and errors at GET /metrics: calls are timed per store method, a Redis
// outage shows up as store errors and as refreshes refused with STORE_UNAVAILABLE.
import t from 'tap'
import { startRedis } from '@authcenter/testkit'
import { startAuthCenter, TEST_MOBILE, TEST_OTP } from '../helpers/auth-center.js'
import { untilReadyz } from '../helpers/server-process.js'

function sample (text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels === '' ? '' : `{${labels}}`} `))
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1))
}

function sum (text: string, name: string): number {
  return text.split('\n').filter((l) => l.startsWith(`${name}{`)).reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0)
}

t.test('a Redis outage: store errors counted, the refresh refused as STORE_UNAVAILABLE', async (t) => {
  const redis = await startRedis({ persist: true })
  t.teardown(() => redis.close())
  const ac = await startAuthCenter({ REDIS_URL: redis.url })
  t.teardown(() => ac.close())
  const scrape = async (): Promise<string> => {
    const r = await fetch(`${ac.url}/metrics`)
    t.equal(r.status, 200)
    return await r.text()
  }

  const login = (await ac.call('POST', '/auth/login', { mobile: TEST_MOBILE, code: TEST_OTP })).body
  const before = await scrape()
  t.ok(sample(before, 'authcenter_store_operation_duration_seconds_count', 'operation="getOrCreateUserByMobile"') >= 1, 'the login\'s store calls are timed')
  t.equal(sum(before, 'authcenter_store_errors_total'), 0, 'no store error while Redis is up')

  await redis.stop()
  const r = await ac.call('POST', '/auth/refresh', { refresh_token: login.refresh_token })
  t.equal(r.body.code, 'STORE_UNAVAILABLE')
  const during = await scrape()
  t.equal(sample(during, 'authcenter_refreshes_total', 'outcome="STORE_UNAVAILABLE"') - sample(before, 'authcenter_refreshes_total', 'outcome="STORE_UNAVAILABLE"'), 1)
  t.ok(sum(during, 'authcenter_store_errors_total') >= 1, 'the failed store call is counted (background calls may fail too)')
  t.notOk(during.includes(login.refresh_token), 'no token in the metrics')

  // Back up before the app closes (closing quits the Redis connection).
  await redis.start()
  t.equal(await untilReadyz(ac.url, 200, 5000), 200)
})
