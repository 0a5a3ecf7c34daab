import t from 'tap'
import pg from 'pg'
import { startPostgres, startRedis } from '@authcenter/testkit'
import { startAuthCenter, TEST_MOBILE, TEST_OTP } from '../helpers/auth-center.js'
import { checkStoreOutage } from '../helpers/store-outage.js'

async function count (url: string, sql: string): Promise<number> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query<{ n: number }>(sql)).rows[0]!.n
  } finally {
    await client.end()
  }
}

t.test('PostgreSQL alone: every concern there; stopping it answers 503 STORE_UNAVAILABLE within 2 s, and the service recovers when it returns', async (t) => {
  const server = await startPostgres()
  t.teardown(() => server.close())
  const url = await server.newDatabase()
  const ac = await startAuthCenter({ DATABASE_URL: url })
  t.teardown(() => ac.close())
  t.equal((await ac.call('GET', '/healthz')).body.store, 'postgres')

  const login = await ac.call('POST', '/auth/login', { mobile: TEST_MOBILE, code: TEST_OTP })
  t.equal(login.status, 200)
  t.equal(await count(url, 'SELECT count(*)::int AS n FROM ac_users'), 1, 'the account is in PostgreSQL')
  t.equal(await count(url, 'SELECT count(*)::int AS n FROM ac_sessions'), 1, 'and so is the session')
  t.equal(await count(url, 'SELECT count(*)::int AS n FROM ac_keys'), 1, 'and the signing keys')
  await checkStoreOutage(t, ac, server)
})

t.test('PostgreSQL + Redis: accounts and keys in PostgreSQL, sessions in Redis', async (t) => {
  const server = await startPostgres()
  t.teardown(() => server.close())
  const redis = await startRedis()
  t.teardown(() => redis.close())
  const url = await server.newDatabase()
  const ac = await startAuthCenter({ DATABASE_URL: url, REDIS_URL: redis.url })
  t.teardown(() => ac.close())
  t.equal((await ac.call('GET', '/healthz')).body.store, 'postgres+redis')

  const login = await ac.call('POST', '/auth/login', { mobile: TEST_MOBILE, code: TEST_OTP })
  t.equal(login.status, 200)
  t.equal(await count(url, 'SELECT count(*)::int AS n FROM ac_users'), 1, 'the account is in PostgreSQL')
  t.equal(await count(url, 'SELECT count(*)::int AS n FROM ac_keys'), 1, 'the signing keys too')
  t.equal(await count(url, 'SELECT count(*)::int AS n FROM ac_sessions'), 0, 'the session is not')
  t.equal((await ac.call('POST', '/auth/refresh', { refresh_token: login.body.refresh_token })).status, 200, 'it is in Redis')
})
