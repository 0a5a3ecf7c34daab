import t from 'tap'
import { startRedis } from '@authcenter/testkit'
import { bearer, form, images, startService } from '../helper.js'

t.test('with REDIS_URL, profiles live in Redis', async (t) => {
  const redis = await startRedis()
  t.teardown(() => redis.close())
  // REDIS_URL is the profile store only: revocations come from the auth center's feed
  // (startService gives an empty one in process), never from this Redis.

  t.test('a profile written by one instance is read by another', async (t) => {
    const one = await startService(t, { REDIS_URL: redis.url })
    const token = one.issuer.mint('shared-1')
    const put = await fetch(`${one.url}/user/username`, {
      method: 'PUT', headers: { ...bearer(token), 'content-type': 'application/json' }, body: JSON.stringify({ username: 'shared' })
    })
    t.equal(put.status, 200)
    await one.app.close()

    const two = await startService(t, { REDIS_URL: redis.url })
    const mine = await fetch(`${two.url}/user/mine`, { headers: bearer(two.issuer.mint('shared-1')) })
    t.match(await mine.json(), { id: 'shared-1', username: 'shared' })
  })

  t.test('a Redis outage answers 503 STORE_UNAVAILABLE promptly and leaves no avatar behind', async (t) => {
    const svc = await startService(t, { REDIS_URL: redis.url })
    const token = svc.issuer.mint('outage-1')
    await redis.stop()
    t.teardown(() => redis.start())
    const started = Date.now()
    const res = await fetch(`${svc.url}/user/mine`, { headers: bearer(token) })
    t.equal(res.status, 503)
    t.match(await res.json(), { statusCode: 503, code: 'STORE_UNAVAILABLE' })
    t.ok(Date.now() - started < 5000, 'within the command timeout')

    const up = await fetch(`${svc.url}/user/avatar`, { method: 'POST', headers: bearer(token), body: form(images.png) })
    t.equal(up.status, 503)
    t.same(await svc.listAvatars(), [], 'the stored file was removed when the profile could not be saved')
  })
})
