import t, { type Test } from 'tap'
import { startRedisCluster, startRedisSentinel } from '@authcenter/testkit'
import { Cluster, Redis } from 'ioredis'
import { ConfigError, loadConfig } from '../../src/config.js'
import { connectRedis, describeRedisTarget, parseRedisTarget, type RedisTarget } from '../../src/store/redis-target.js'
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

t.test('REDIS_USERNAME, REDIS_PASSWORD, REDIS_SENTINEL_USERNAME, REDIS_SENTINEL_PASSWORD and REDIS_TLS go with a cluster or Sentinel', async (t) => {
  t.same(loadConfig({ REDIS_CLUSTER_NODES: 'a:7000', REDIS_USERNAME: 'app', REDIS_PASSWORD: 'pw-1', REDIS_TLS: 'true' }).redis,
    { kind: 'cluster', nodes: [{ host: 'a', port: 7000 }], username: 'app', password: 'pw-1', tls: true })
  t.same(loadConfig({ REDIS_CLUSTER_NODES: 'a:7000', REDIS_TLS: 'false' }).redis, { kind: 'cluster', nodes: [{ host: 'a', port: 7000 }] }, 'REDIS_TLS=false: the default')
  t.same(loadConfig({
    REDIS_SENTINELS: 's1:26379', REDIS_SENTINEL_MASTER: 'main', REDIS_PASSWORD: 'pw-1',
    REDIS_SENTINEL_USERNAME: 'watcher', REDIS_SENTINEL_PASSWORD: 'pw-2', REDIS_TLS: 'true'
  }).redis, { kind: 'sentinel', sentinels: [{ host: 's1', port: 26379 }], masterName: 'main', password: 'pw-1', tls: true, sentinelUsername: 'watcher', sentinelPassword: 'pw-2' })
})

t.test('the credential and TLS variables are refused where they do not apply, naming the variable and never the password', async (t) => {
  const secret = 'do-not-print-4b1c'
  const refused = (env: Record<string, string>, message: RegExp): void => {
    try {
      loadConfig(env)
      t.fail(`accepted: ${Object.keys(env).join(', ')}`)
    } catch (err) {
      t.ok(err instanceof ConfigError, Object.keys(env).join(', '))
      t.match((err as Error).message, message)
      t.notOk((err as Error).message.includes(secret), 'the message does not hold the password')
    }
  }
  const viaUrl = /not used with REDIS_URL, which carries its own credentials \(redis:\/\/user:password@host:port/
  refused({ REDIS_URL: 'redis://cache:6379', REDIS_PASSWORD: secret }, new RegExp('^REDIS_PASSWORD: ' + viaUrl.source))
  refused({ REDIS_URL: 'redis://cache:6379', REDIS_USERNAME: 'app' }, new RegExp('^REDIS_USERNAME: ' + viaUrl.source))
  refused({ REDIS_URL: 'redis+sentinel://s1:26379/main', REDIS_PASSWORD: secret }, /^REDIS_PASSWORD: not used with REDIS_URL/)
  refused({ REDIS_URL: 'redis://cache:6379', REDIS_TLS: 'true' }, /^REDIS_TLS: not used with REDIS_URL \(for TLS to one server use rediss:\/\/host:port/)
  refused({ REDIS_PASSWORD: secret }, /^REDIS_PASSWORD: only used with REDIS_CLUSTER_NODES or REDIS_SENTINELS$/)
  refused({ REDIS_CLUSTER_NODES: 'a:7000', REDIS_SENTINEL_PASSWORD: secret }, /^REDIS_SENTINEL_PASSWORD: only used with REDIS_SENTINELS/)
  refused({ REDIS_URL: 'redis+sentinel://s1:26379/main', REDIS_SENTINEL_PASSWORD: secret }, /^REDIS_SENTINEL_PASSWORD: only used with REDIS_SENTINELS/)
  refused({ REDIS_SENTINEL_USERNAME: 'watcher' }, /^REDIS_SENTINEL_USERNAME: only used with REDIS_SENTINELS/)
  // An empty variable is an unset one (loadConfig); given directly, an empty password is refused.
  t.throws(() => parseRedisTarget({ clusterNodes: 'a:7000', password: '' }), { name: 'RedisTargetError', message: 'REDIS_PASSWORD: empty (unset it, or give a value)' })
  refused({ REDIS_CLUSTER_NODES: 'a:7000', REDIS_TLS: 'yes' }, /^REDIS_TLS: expected true or false \(got "yes"\)$/)
  // Another variable's bad value, a password set beside it: the message names only the bad one.
  refused({ REDIS_CLUSTER_NODES: 'a:7000,b', REDIS_PASSWORD: secret }, /^REDIS_CLUSTER_NODES: expected host:port entries separated by commas \(got "b"\)$/)
  refused({ REDIS_SENTINELS: 's1:26379', REDIS_PASSWORD: secret }, /^REDIS_SENTINEL_MASTER: required with REDIS_SENTINELS/)
})

t.test('the clients carry the credentials and TLS to every data node; the log line says where, never the password', async (t) => {
  const secret = 'do-not-print-4b1c'
  const cluster: RedisTarget = { kind: 'cluster', nodes: [{ host: '127.0.0.1', port: 1 }], username: 'app', password: secret, tls: true }
  const c = connectRedis(cluster, { lazyConnect: true, commandTimeout: 900 })
  t.teardown(() => c.disconnect())
  t.ok(c instanceof Cluster)
  t.match((c as Cluster).options.redisOptions, { username: 'app', password: secret, tls: {}, commandTimeout: 900 }, 'every node: redisOptions')
  t.equal(describeRedisTarget(cluster), 'Redis Cluster (seeds 127.0.0.1:1; TLS; as app; with a password)')

  const sentinel: RedisTarget = { kind: 'sentinel', sentinels: [{ host: '127.0.0.1', port: 1 }], masterName: 'main', password: secret, tls: true, sentinelPassword: 'sentinel-secret' }
  const s = connectRedis(sentinel, { lazyConnect: true })
  t.teardown(() => s.disconnect())
  t.ok(s instanceof Redis)
  t.match((s as Redis).options, { name: 'main', password: secret, tls: {}, enableTLSForSentinelMode: true, sentinelPassword: 'sentinel-secret' })
  t.equal(describeRedisTarget(sentinel), 'Redis master "main" through Sentinel 127.0.0.1:1 (TLS, with a password, sentinels with a password)')

  const plain = connectRedis({ kind: 'cluster', nodes: [{ host: '127.0.0.1', port: 1 }] }, { lazyConnect: true })
  t.teardown(() => plain.disconnect())
  t.notOk('tls' in (plain as Cluster).options.redisOptions!, 'no TLS unless REDIS_TLS=true')
  t.equal(describeRedisTarget({ kind: 'cluster', nodes: [{ host: '127.0.0.1', port: 1 }] }), 'Redis Cluster (seeds 127.0.0.1:1)')
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
