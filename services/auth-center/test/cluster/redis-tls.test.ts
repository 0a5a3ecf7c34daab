import t, { type Test } from 'tap'
import { makeTestCertificates, startRedisCluster } from '@authcenter/testkit'
import { spawnAuthCenter, type ServerProcess } from '../helpers/server-process.js'
import { TEST_MOBILE, TEST_OTP } from '../helpers/auth-center.js'

// REDIS_TLS=true against a real TLS-only cluster (redis-server --tls-port, TLS on the
// cluster bus and replication too) whose certificate a throwaway CA signed. The auth
// center runs as its own process (src/server.ts), which trusts that CA the way a
// deployment with a private CA would: NODE_EXTRA_CA_CERTS, read only at process start.

const PASSWORD = 'tls-node-pw-61d0'

const run = async (t: Test, env: Record<string, string>): Promise<ServerProcess> => await spawnAuthCenter(t, env, 'tls')

async function post (url: string, body: unknown): Promise<{ status: number, body: any }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return { status: res.status, body: await res.json() }
}

t.test('a TLS-only Redis Cluster with a password, named by REDIS_CLUSTER_NODES + REDIS_TLS + REDIS_PASSWORD', async (t) => {
  const certs = await makeTestCertificates()
  t.teardown(() => certs.close())
  const cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1, password: PASSWORD, tls: certs })
  t.teardown(() => cluster.close())
  const base = { REDIS_CLUSTER_NODES: cluster.seeds, NODE_EXTRA_CA_CERTS: certs.ca }

  await t.test('REDIS_TLS=true with the password: a login and a refresh work', async (t) => {
    const r = await run(t, { ...base, REDIS_TLS: 'true', REDIS_PASSWORD: PASSWORD })
    await r.untilReady()
    const login = await post(`${r.url}/auth/login`, { mobile: TEST_MOBILE, code: TEST_OTP })
    t.equal(login.status, 200, 'login')
    const refresh = await post(`${r.url}/auth/refresh`, { refresh_token: login.body.refresh_token })
    t.equal(refresh.status, 200, 'refresh')
    t.not(refresh.body.refresh_token, login.body.refresh_token, 'rotated')
    t.match(r.stdout(), /"redis":"Redis Cluster \(seeds [^"]*; TLS; with a password\)"/)
    t.notOk((r.stdout() + r.stderr()).includes(PASSWORD), 'no output holds the password')
  })

  await t.test('over TLS without REDIS_PASSWORD the process prints one line naming it and exits 1', async (t) => {
    const r = await run(t, { ...base, REDIS_TLS: 'true' })
    t.equal(await r.exited, 1)
    t.equal(r.stderr(), 'auth-center: REDIS_PASSWORD: the cluster nodes refused the connection (NOAUTH Authentication required.); set REDIS_PASSWORD (and REDIS_USERNAME for an ACL user) to their credentials\n')
  })

  await t.test('without REDIS_TLS (plain TCP to TLS ports) the start gives up after 10 s, naming the target', async (t) => {
    const r = await run(t, { ...base, REDIS_PASSWORD: PASSWORD })
    t.not(await r.exited, 0)
    t.match(r.stderr(), /Redis Cluster \(seeds [^)]*; with a password\): not ready within 10000 ms/)
    t.notOk(r.stderr().includes(PASSWORD), 'the error does not hold the password')
  })
})
