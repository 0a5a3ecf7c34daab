import t from 'tap'
import { startRedis } from '@authcenter/testkit'
import { sleep, startAuthCenter } from '../helpers/auth-center.js'
import { untilReadyz } from '../helpers/server-process.js'

t.test('a Redis outage is logged once when lost and once when back, never as "[ioredis] Unhandled error event"', async (t) => {
  const redis = await startRedis()
  t.teardown(() => redis.close())
  const ac = await startAuthCenter({ REDIS_URL: redis.url })
  t.teardown(() => ac.close())

  // ioredis reports an error nobody listens to with console.error.
  const printed: string[] = []
  const original = console.error
  console.error = (...args: unknown[]) => { printed.push(args.map(String).join(' ')) }
  t.teardown(() => { console.error = original })

  await redis.stop()
  t.equal((await ac.call('GET', '/readyz')).status, 503)
  await sleep(1500) // several reconnect attempts fail meanwhile
  t.equal((await ac.call('GET', '/readyz')).status, 503)
  await redis.start()
  t.equal(await untilReadyz(ac.url, 200, 5000), 200)

  t.same(printed.filter((line) => line.includes('[ioredis]')), [], 'nothing from ioredis on stderr')
  const messages = ac.logs.map((l) => JSON.parse(l) as { msg: string }).map((l) => l.msg).filter((m) => m.startsWith('redis: '))
  t.same(messages, ['redis: connection lost, reconnecting (requests answer 503 STORE_UNAVAILABLE meanwhile)', 'redis: connected again'])
})
