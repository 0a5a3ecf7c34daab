import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import { freePort, makeTestCertificates, startRedisCluster } from '@authcenter/testkit'
import { TEST_MOBILE, TEST_OTP } from '../helpers/auth-center.js'

// REDIS_TLS=true against a real TLS-only cluster (redis-server --tls-port, TLS on the
// cluster bus and replication too) whose certificate a throwaway CA signed. The auth
// center runs as its own process (src/server.ts), which trusts that CA the way a
// deployment with a private CA would: NODE_EXTRA_CA_CERTS, read only at process start.

const SERVICE_DIR = fileURLToPath(new URL('../..', import.meta.url))
const PASSWORD = 'tls-node-pw-61d0'

interface Run {
  url: string
  exited: Promise<number | null>
  stdout: () => string
  stderr: () => string
}

async function run (t: Test, env: Record<string, string>): Promise<Run> {
  const port = await freePort()
  const dataDir = await mkdtemp(join(tmpdir(), 'authcenter-tls-'))
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: SERVICE_DIR,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: String(port), AUTH_DATA_DIR: dataDir, LOG_LEVEL: 'info', SMS_TEST_OTP: `${TEST_MOBILE}:${TEST_OTP}`, ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (b: Buffer) => { stdout += b.toString() })
  child.stderr.on('data', (b: Buffer) => { stderr += b.toString() })
  const exited = once(child, 'exit').then(([code]) => code as number | null)
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await exited
    }
    await rm(dataDir, { recursive: true, force: true, maxRetries: 3 })
  })
  return { url: `http://127.0.0.1:${port}`, exited, stdout: () => stdout, stderr: () => stderr }
}

async function untilReady (r: Run): Promise<void> {
  let exited = false
  void r.exited.then(() => { exited = true })
  while (await fetch(`${r.url}/readyz`).then((res) => res.status !== 200, () => true)) {
    if (exited) throw new Error(`the auth center exited: ${r.stderr()}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

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
    await untilReady(r)
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
