import t, { type Test } from 'tap'
import { Redis } from 'ioredis'
import { startRedisCluster, startRedisSentinel } from '@authcenter/testkit'
import { startAuthCenter, TEST_MOBILE, TEST_OTP } from '../helpers/auth-center.js'

// Production Redis wants credentials: REDIS_USERNAME / REDIS_PASSWORD for the data nodes
// (every cluster node; the master and replica under Sentinel), REDIS_SENTINEL_PASSWORD for
// the sentinels. Without them the start stops with one line naming the variable to set
// (server.ts prints it and exits 1), at once instead of after a 10 s plugin timeout.

const PASSWORD = 'node-pw-7f3a'
const SENTINEL_PASSWORD = 'sentinel-pw-9c1e'

async function loginAndRefresh (t: Test, env: Record<string, string>, secrets: string[]): Promise<void> {
  const ac = await startAuthCenter(env)
  t.teardown(() => ac.close())
  t.same((await ac.call('GET', '/readyz')).body, { status: 'ok', store: 'redis' })
  const login = await ac.call('POST', '/auth/login', { mobile: TEST_MOBILE, code: TEST_OTP })
  t.equal(login.status, 200, 'login')
  const refresh = await ac.call('POST', '/auth/refresh', { refresh_token: login.body.refresh_token })
  t.equal(refresh.status, 200, 'refresh')
  t.equal(typeof refresh.body.access_token, 'string')
  t.not(refresh.body.refresh_token, login.body.refresh_token, 'rotated')
  const logs = ac.logs.join('')
  for (const secret of secrets) t.notOk(logs.includes(secret), 'no log line holds a password')
  t.match(logs, /"redis":"Redis (Cluster \(seeds [^"]*; with a password\)|master \\"authcenter\\" through Sentinel [^"]* \(with a password(, sentinels with a password)?\))"/, 'the start line says a password is used, not which')
}

async function refused (t: Test, env: Record<string, string>, message: string, secrets: string[] = []): Promise<void> {
  const err = await startAuthCenter(env).then(() => undefined, (e: unknown) => e as Error)
  t.ok(err, 'the start failed')
  t.equal(err?.name, 'ConfigError')
  t.equal(err?.message, message)
  for (const secret of secrets) t.notOk(err?.message.includes(secret), 'the message does not hold the password')
}

t.test('a Redis Cluster whose nodes want a password (requirepass, masterauth)', async (t) => {
  const cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1, password: PASSWORD })
  t.teardown(() => cluster.close())

  await t.test('without REDIS_PASSWORD the start stops, naming it', async (t) => {
    await refused(t, { REDIS_CLUSTER_NODES: cluster.seeds },
      'REDIS_PASSWORD: the cluster nodes refused the connection (NOAUTH Authentication required.); set REDIS_PASSWORD (and REDIS_USERNAME for an ACL user) to their credentials')
  })
  await t.test('a wrong REDIS_PASSWORD stops it too, without repeating it', async (t) => {
    await refused(t, { REDIS_CLUSTER_NODES: cluster.seeds, REDIS_PASSWORD: 'wrong-pw-5d2b' },
      'REDIS_PASSWORD: the cluster nodes refused the connection (WRONGPASS invalid username-password pair or user is disabled.); set REDIS_PASSWORD (and REDIS_USERNAME for an ACL user) to their credentials',
      ['wrong-pw-5d2b'])
  })
  await t.test('with REDIS_PASSWORD a login and a refresh work', async (t) => {
    await loginAndRefresh(t, { REDIS_CLUSTER_NODES: cluster.seeds, REDIS_PASSWORD: PASSWORD }, [PASSWORD])
  })
  await t.test('as an ACL user: REDIS_USERNAME and REDIS_PASSWORD', async (t) => {
    // ACL users are per node: every node gets the user.
    for (const node of cluster.nodes) {
      const admin = new Redis({ ...node, password: PASSWORD, lazyConnect: true })
      await admin.connect()
      await admin.call('ACL', 'SETUSER', 'authcenter', 'on', '>acl-pw-3e8d', '~*', '&*', '+@all')
      await admin.quit()
    }
    await loginAndRefresh(t, { REDIS_CLUSTER_NODES: cluster.seeds, REDIS_USERNAME: 'authcenter', REDIS_PASSWORD: 'acl-pw-3e8d' }, ['acl-pw-3e8d'])
  })
})

t.test('a Sentinel setup whose master and replica want a password, and whose sentinels want their own', async (t) => {
  const s = await startRedisSentinel({ password: PASSWORD, sentinelPassword: SENTINEL_PASSWORD })
  t.teardown(() => s.close())
  const base = { REDIS_SENTINELS: s.sentinels, REDIS_SENTINEL_MASTER: s.masterName }

  await t.test('without REDIS_SENTINEL_PASSWORD the sentinels refuse, and the start stops naming it', async (t) => {
    await refused(t, { ...base, REDIS_PASSWORD: PASSWORD },
      'REDIS_SENTINEL_PASSWORD: the sentinels refused the connection (NOAUTH HELLO must be called with the client already authenticated); set REDIS_SENTINEL_PASSWORD (and REDIS_SENTINEL_USERNAME for an ACL user) to the sentinels\' own credentials',
      [PASSWORD])
  })
  await t.test('without REDIS_PASSWORD the master refuses, and the start stops naming it', async (t) => {
    await refused(t, { ...base, REDIS_SENTINEL_PASSWORD: SENTINEL_PASSWORD },
      'REDIS_PASSWORD: the master "authcenter" refused the connection (NOAUTH HELLO must be called with the client already authenticated); set REDIS_PASSWORD (and REDIS_USERNAME for an ACL user) to their credentials',
      [SENTINEL_PASSWORD])
  })
  await t.test('with both a login and a refresh work', async (t) => {
    await loginAndRefresh(t, { ...base, REDIS_PASSWORD: PASSWORD, REDIS_SENTINEL_PASSWORD: SENTINEL_PASSWORD }, [PASSWORD, SENTINEL_PASSWORD])
  })
})

t.test('a Sentinel setup with a password on the master and replica only (REDIS_PASSWORD alone)', async (t) => {
  const s = await startRedisSentinel({ password: PASSWORD })
  t.teardown(() => s.close())
  await loginAndRefresh(t, { REDIS_SENTINELS: s.sentinels, REDIS_SENTINEL_MASTER: s.masterName, REDIS_PASSWORD: PASSWORD }, [PASSWORD])
})
