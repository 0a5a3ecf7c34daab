import t from 'tap'
import { startRedis } from '@authcenter/testkit'
import { sleep, startAuthCenter, TEST_MOBILE, TEST_OTP } from '../helpers/auth-center.js'

t.test('Redis stopping answers 503 STORE_UNAVAILABLE within 2 s, and the service recovers when it returns', async (t) => {
  const redis = await startRedis({ persist: true })
  t.teardown(() => redis.close())
  const ac = await startAuthCenter({ REDIS_URL: redis.url })
  t.teardown(() => ac.close())

  const login = (await ac.call('POST', '/auth/login', { mobile: TEST_MOBILE, code: TEST_OTP })).body
  t.equal((await ac.call('GET', '/readyz')).status, 200)

  await redis.stop()
  for (const [method, path, body] of [
    ['POST', '/auth/login', { mobile: TEST_MOBILE, code: TEST_OTP }],
    ['POST', '/auth/refresh', { refresh_token: login.refresh_token }],
    ['GET', '/readyz', undefined]
  ] as const) {
    const started = Date.now()
    const r = await ac.call(method, path, body)
    const took = Date.now() - started
    t.equal(r.status, 503, `${path} is 503`)
    t.equal(r.body.code, 'STORE_UNAVAILABLE')
    t.ok(took < 2000, `${path} answered in ${took} ms`)
  }
  t.equal((await ac.call('GET', '/healthz')).status, 200, 'the process itself is alive')

  await redis.start()
  let ready = 0
  for (let i = 0; i < 50 && ready !== 200; i++) {
    await sleep(100)
    ready = (await ac.call('GET', '/readyz')).status
  }
  t.equal(ready, 200, 'ready again without a restart')
  const r = await ac.call('POST', '/auth/refresh', { refresh_token: login.refresh_token })
  t.equal(r.status, 200, 'the session saved before the outage is still there')
})
