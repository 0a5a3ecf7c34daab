import t, { type Test } from 'tap'
import { startRedisCluster, startRedisSentinel } from '@authcenter/testkit'
import { ConfigError, loadConfig } from '../../src/config.js'
import { startAuthCenter, TEST_MOBILE, TEST_OTP } from '../helpers/auth-center.js'

t.test('REDIS_CLUSTER_NODES, REDIS_SENTINELS + REDIS_SENTINEL_MASTER and the redis+sentinel:// alias name their targets', async (t) => {
  t.same(loadConfig({ REDIS_CLUSTER_NODES: '10.0.0.1:7000, redis-b:7001,[::1]:7002' }).redis,
    { kind: 'cluster', nodes: [{ host: '10.0.0.1', port: 7000 }, { host: 'redis-b', port: 7001 }, { host: '::1', port: 7002 }] })
  t.same(loadConfig({ REDIS_SENTINELS: 's1:26379,s2:26379', REDIS_SENTINEL_MASTER: 'main' }).redis,
    { kind: 'sentinel', sentinels: [{ host: 's1', port: 26379 }, { host: 's2', port: 26379 }], masterName: 'main' })
  t.same(loadConfig({ REDIS_URL: 'redis+sentinel://:p%40ss@s1:26379,s2:26380/main' }).redis,
    { kind: 'sentinel', sentinels: [{ host: 's1', port: 26379 }, { host: 's2', port: 26380 }], masterName: 'main', password: 'p@ss' })
  t.same(loadConfig({ REDIS_URL: 'redis://cache:6379/1' }).redis, { kind: 'server', url: 'redis://cache:6379/1' })
  t.equal(loadConfig({}).redis, undefined, 'none: the memory store')
})

t.test('a bad or ambiguous Redis setting stops the start with one line naming the variable, never the password', async (t) => {
  const refused = (env: Record<string, string>, message: RegExp): void => {
    t.throws(() => loadConfig(env), { name: 'ConfigError', message }, JSON.stringify(env))
  }
  refused({ REDIS_URL: 'redis://a:6379', REDIS_CLUSTER_NODES: 'b:7000' }, /^REDIS_URL and REDIS_CLUSTER_NODES: set only one of REDIS_URL, REDIS_CLUSTER_NODES, REDIS_SENTINELS$/)
  refused({ REDIS_CLUSTER_NODES: 'b:7000', REDIS_SENTINELS: 's:26379', REDIS_SENTINEL_MASTER: 'm' }, /^REDIS_CLUSTER_NODES and REDIS_SENTINELS: set only one/)
  refused({ REDIS_SENTINELS: 's:26379' }, /^REDIS_SENTINEL_MASTER: required with REDIS_SENTINELS/)
  refused({ REDIS_SENTINEL_MASTER: 'm' }, /^REDIS_SENTINEL_MASTER: only used with REDIS_SENTINELS/)
  refused({ REDIS_CLUSTER_NODES: 'b:7000,c' }, /^REDIS_CLUSTER_NODES: expected host:port entries separated by commas \(got "c"\)$/)
  refused({ REDIS_CLUSTER_NODES: 'b:70000' }, /^REDIS_CLUSTER_NODES: expected host:port/)
  refused({ REDIS_SENTINELS: 's:26379', REDIS_SENTINEL_MASTER: 'bad name' }, /^REDIS_SENTINEL_MASTER: /)
  try {
    loadConfig({ REDIS_URL: 'redis+sentinel://:secret-pw@s1:26379' })
    t.fail('a sentinel URL without a master name was accepted')
  } catch (err) {
    t.ok(err instanceof ConfigError)
    t.match((err as Error).message, /^REDIS_URL: expected redis\+sentinel:\/\//)
    t.notMatch((err as Error).message, /secret-pw/)
  }
  t.throws(() => loadConfig({ NODE_ENV: 'production', SMS_SENDER: 'webhook', SMS_WEBHOOK_URL: 'https://sms.example', REDIS_CLUSTER_NODES: 'b:7000' }),
    { message: /^AUTH_KEK: required when NODE_ENV=production with a shared store/ }, 'a cluster is a shared store: AUTH_KEK is required')
})

async function loginWorks (t: Test, env: Record<string, string>): Promise<void> {
  const ac = await startAuthCenter(env)
  t.teardown(() => ac.close())
  const ready = await ac.call('GET', '/readyz')
  t.same(ready.body, { status: 'ok', store: 'redis' })
  const login = await ac.call('POST', '/auth/login', { mobile: TEST_MOBILE, code: TEST_OTP })
  t.equal(login.status, 200)
  t.equal(typeof login.body.access_token, 'string')
  t.equal((await ac.call('GET', '/.well-known/jwks.json')).status, 200, 'signing keys shared through the store (ac:keys)')
}

t.test('the auth center runs on a real Redis Cluster named by REDIS_CLUSTER_NODES', async (t) => {
  const cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 })
  t.teardown(() => cluster.close())
  await loginWorks(t, { REDIS_CLUSTER_NODES: cluster.seeds })
})

t.test('the auth center runs on a real Sentinel setup named by REDIS_SENTINELS and REDIS_SENTINEL_MASTER', async (t) => {
  const s = await startRedisSentinel()
  t.teardown(() => s.close())
  await loginWorks(t, { REDIS_SENTINELS: s.sentinels, REDIS_SENTINEL_MASTER: s.masterName })
})
