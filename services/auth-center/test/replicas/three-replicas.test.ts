import t, { type Test } from 'tap'
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { createVerifier, type Verifier } from '@authcenter/verifier'
import { startRedis, startRedisCluster } from '@authcenter/testkit'
import { TEST_MOBILE, TEST_OTP } from '../helpers/auth-center.js'
import { clientToken, verdict } from '../revocations/helpers.js'
import { startPinningBalancer, startReplica, type ReplicaProcess } from './processes.js'

const ADMIN = 'three-replicas-admin-credential-0123'
const FEED_SECRET = randomBytes(32).toString('base64url')
const run = promisify(execFile)

const J = { 'content-type': 'application/json' }
const kidOf = (jwt: string): string => (JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid
const jwksKids = async (r: ReplicaProcess): Promise<string[]> =>
  ((await (await fetch(`${r.url}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid)

/** Polls `check` every 50 ms for up to `ms`; the last answer (the assertion is on it, never on the time taken). */
async function eventually<T> (ms: number, probe: () => Promise<T>, done: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const v = await probe()
    if (done(v) || Date.now() > deadline) return v
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

const STORY = 'log in at A, refresh at B, kick at C; verifiers following A, B and C all refuse the kicked token; a key rotated at A signs at B and C; a client registered at A works at once at B and C'

t.test(`three auth-center processes on one Redis: ${STORY}`, async (t) => {
  const redis = await startRedis()
  t.teardown(() => redis.close())
  await threeReplicas(t, { REDIS_URL: redis.url })
})

t.test(`three auth-center processes on one Redis Cluster (3 masters + 3 replicas): ${STORY}`, async (t) => {
  const cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 })
  t.teardown(() => cluster.close())
  await threeReplicas(t, { REDIS_CLUSTER_NODES: cluster.seeds })
})

async function threeReplicas (t: Test, store: Record<string, string>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'authcenter-three-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  // One feed reader per verifier, so the balancer can pin each verifier's feed to one replica.
  const clientsFile = join(dir, 'clients.json')
  await writeFile(clientsFile, JSON.stringify({
    clients: ['a', 'b', 'c'].map((n) => ({ client_id: `feed-${n}`, type: 'confidential', client_secret: FEED_SECRET, grant_types: ['client_credentials'], scope: 'revocations:read' }))
  }))
  const pins: Record<string, number> = {}
  // The balancer's port is the issuer, so it exists before the replicas (its targets are filled in below).
  const lb = await startPinningBalancer(t, pins, 0)
  const env = {
    ...store,
    // Replicas share the store, so they share the key-encryption key too.
    AUTH_KEK: randomBytes(32).toString('base64url'),
    AUTH_ISSUER: lb.url,
    AUTH_ADMIN_TOKEN: ADMIN,
    AUTH_CLIENTS_FILE: clientsFile,
    SMS_TEST_OTP: `${TEST_MOBILE}:${TEST_OTP}`,
    AUTH_KEY_ROTATION_INTERVAL: '0'
  }
  const [a, b, c] = await Promise.all([startReplica(t, 'A', env), startReplica(t, 'B', env), startReplica(t, 'C', env)]) as [ReplicaProcess, ReplicaProcess, ReplicaProcess]
  Object.assign(pins, { 'feed-a': a.port, 'feed-b': b.port, 'feed-c': c.port })
  lb.fallback = a.port

  const verifiers: Record<string, Verifier> = {}
  for (const [name, r] of [['A', a], ['B', b], ['C', c]] as const) {
    const v = createVerifier({
      issuer: lb.url,
      audience: 'authcenter',
      revocation: { clientId: `feed-${name.toLowerCase()}`, clientSecret: FEED_SECRET, logger: { info () {}, warn () {}, error () {} } }
    })
    t.teardown(() => v.close())
    await v.ready()
    verifiers[name] = v
    await eventually(5000, async () => lb.served.filter((s) => s.port === r.port && s.path === '/revocations/stream').length, (n) => n > 0)
  }
  for (const r of [a, b, c]) {
    t.equal(lb.served.filter((s) => s.port === r.port && s.path === '/revocations/stream').length, 1, `one verifier follows ${r.name}'s feed stream`)
  }
  const all = async (token: string): Promise<string[]> => await Promise.all(['A', 'B', 'C'].map(async (n) => await verdict(verifiers[n]!, token)))

  // Log in at A (two devices), refresh device one at B.
  const loginAt = async (r: ReplicaProcess, device: string): Promise<{ access_token: string, refresh_token: string, session_id: string }> => {
    const res = await fetch(`${r.url}/auth/login`, { method: 'POST', headers: J, body: JSON.stringify({ mobile: TEST_MOBILE, code: TEST_OTP, device: { name: device } }) })
    t.equal(res.status, 200, `login at ${r.name}`)
    return await res.json() as never
  }
  const one = await loginAt(a, 'one')
  const two = await loginAt(a, 'two')
  const refreshed = await fetch(`${b.url}/auth/refresh`, { method: 'POST', headers: J, body: JSON.stringify({ refresh_token: one.refresh_token }) })
  t.equal(refreshed.status, 200, 'the refresh token from A rotates at B')
  const oneAtB = await refreshed.json() as { access_token: string, refresh_token: string, session_id: string }
  t.equal(oneAtB.session_id, one.session_id)
  t.same(await all(oneAtB.access_token), ['ok', 'ok', 'ok'], 'the access token B issued verifies at every verifier')

  // Kick device one at C, from device two.
  const kick = await fetch(`${c.url}/auth/sessions/${one.session_id}`, { method: 'DELETE', headers: { authorization: `Bearer ${two.access_token}` } })
  t.equal(kick.status, 204, 'kicked at C')
  const refused = await eventually(5000, async () => await all(oneAtB.access_token), (v) => v.every((x) => x === 'TOKEN_REVOKED'))
  t.same(refused, ['TOKEN_REVOKED', 'TOKEN_REVOKED', 'TOKEN_REVOKED'], 'the verifiers following A, B and C all refuse the kicked session')
  t.same(await all(one.access_token), ['TOKEN_REVOKED', 'TOKEN_REVOKED', 'TOKEN_REVOKED'], 'its first access token too')
  t.same(await all(two.access_token), ['ok', 'ok', 'ok'], 'the other device is untouched')
  const afterKick = await fetch(`${a.url}/auth/refresh`, { method: 'POST', headers: J, body: JSON.stringify({ refresh_token: oneAtB.refresh_token }) })
  t.equal((await afterKick.json() as { code: string }).code, 'SESSION_REVOKED', 'and its refresh token is dead at A')

  // Key rotation at A (keys:rotate with A's environment and data directory): B and C load it.
  const before = kidOf(two.access_token)
  const rotated = await run(process.execPath, ['--import', 'tsx', 'src/keys/rotate-cli.ts'], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    env: { PATH: process.env.PATH ?? '', ...env, AUTH_DATA_DIR: a.dataDir }
  })
  const next = /-> (\S+) /.exec(rotated.stdout)?.[1]
  t.ok(next !== undefined && next !== before, `rotated: ${rotated.stdout.trim()}`)
  for (const r of [a, b, c]) {
    const kids = await eventually(15_000, async () => await jwksKids(r), (k) => k.includes(next!))
    t.ok(kids.includes(next!) && kids.includes(before), `${r.name} publishes the new key and still the old one`)
  }
  for (const r of [b, c]) {
    const fresh = await eventually(15_000, async () => await loginAt(r, `after-${r.name}`), (l) => kidOf(l.access_token) === next)
    t.equal(kidOf(fresh.access_token), next, `${r.name} signs with the key rotated at A`)
    t.same(await all(fresh.access_token), ['ok', 'ok', 'ok'], `a token ${r.name} signed with it verifies everywhere`)
  }
  t.same(await all(two.access_token), ['ok', 'ok', 'ok'], 'a token signed with the old key still verifies')

  // An OAuth client registered at A works at once at B and C, and once deleted at A, nowhere.
  const admin = { ...J, authorization: `Bearer ${ADMIN}` }
  const reg = await fetch(`${a.url}/admin/clients`, {
    method: 'POST', headers: admin,
    body: JSON.stringify({ client_id: 'partner', type: 'confidential', grant_types: ['client_credentials'], scope: 'reports' })
  })
  t.equal(reg.status, 201)
  const secret = (await reg.json() as { client_secret: string }).client_secret
  for (const r of [b, c]) {
    const token = await clientToken(r.url, 'partner', secret, 'reports')
    t.equal(JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).client_id, 'partner', `the client registered at A gets a token at ${r.name} at once`)
  }
  const bearer = { authorization: `Bearer ${ADMIN}` }
  t.equal((await fetch(`${b.url}/admin/clients/partner`, { headers: bearer })).status, 200, 'B reads it at once')
  t.equal((await fetch(`${a.url}/admin/clients/partner`, { method: 'DELETE', headers: bearer })).status, 200, 'deleted at A')
  for (const r of [b, c]) {
    const res = await fetch(`${r.url}/oauth/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`partner:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials' })
    })
    t.equal(res.status, 401, `refused at ${r.name} at once`)
    t.equal((await res.json() as { error: string }).error, 'invalid_client')
  }
}
