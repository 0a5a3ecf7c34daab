import t from 'tap'
import { spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'
import { startPostgres, startRedis } from '@authcenter/testkit'
import { redisClientOptions } from '../../src/store/index.js'
import { createRedisOAuth } from '../../src/store/oauth/redis.js'
import { createRedisUsers } from '../../src/store/users/redis.js'
import { migrate } from '../../src/store/postgres/migrate.js'
import { createPostgres } from '../../src/store/postgres/pool.js'
import { startAuthCenter, TEST_MOBILE, TEST_OTP } from '../helpers/auth-center.js'

const ADMIN_TOKEN = 'admin-secret-0123456789abcdef'
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` }
const PASSWORD = 'correct horse battery'
const KEK = Buffer.alloc(32, 7).toString('base64url')
const CLI = fileURLToPath(new URL('../../src/store/copy-cli.ts', import.meta.url))

const pgServer = await startPostgres()
t.teardown(() => pgServer.close())
const redisServer = await startRedis()
t.teardown(() => redisServer.close())

async function clientCredentials (url: string, id: string, secret: string): Promise<number> {
  const res = await fetch(`${url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'reports' })
  })
  await res.text()
  return res.status
}

function runCopy (env: Record<string, string>): { status: number | null, stdout: string, stderr: string } {
  return spawnSync(process.execPath, ['--import=tsx', CLI], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 })
}

t.test('store:copy moves a Redis deployment to PostgreSQL, idempotently, never overwriting PostgreSQL', async (t) => {
  const databaseUrl = await pgServer.newDatabase()
  const env = { REDIS_URL: redisServer.url, DATABASE_URL: databaseUrl, AUTH_KEK: KEK }

  // The Redis deployment: a user with a password, an admin-registered client, keys.
  const onRedis = await startAuthCenter({ REDIS_URL: redisServer.url, AUTH_KEK: KEK, AUTH_ADMIN_TOKEN: ADMIN_TOKEN })
  const login = await onRedis.call('POST', '/auth/login', { mobile: TEST_MOBILE, code: TEST_OTP })
  t.equal(login.status, 200)
  const userId: string = login.body.user.id
  t.equal((await onRedis.call('PUT', '/auth/password', { new_password: PASSWORD, code: TEST_OTP }, { authorization: `Bearer ${login.body.access_token}` })).status, 204)
  const reg = await onRedis.call('POST', '/admin/clients', { client_id: 'dyn', name: 'Dynamic', type: 'confidential', redirect_uris: ['https://dyn.example/cb'], grant_types: ['client_credentials'], scope: 'reports' }, admin)
  t.equal(reg.status, 201)
  const secret: string = reg.body.client_secret
  const kids = (await onRedis.call('GET', '/.well-known/jwks.json')).body.keys.map((k: { kid: string }) => k.kid).sort()
  t.ok(kids.length >= 2, 'the Redis deployment published its keys')
  await onRedis.close()

  // Through the drivers: two consents, and a second user whose mobile PostgreSQL already has under another id.
  const client = new Redis(redisServer.url, redisClientOptions)
  client.on('error', () => {})
  await once(client, 'ready')
  t.teardown(() => { client.disconnect() })
  const oauth = createRedisOAuth(client)
  await oauth.setConsent(userId, { clientId: 'dyn', scope: 'reports', grantedAt: 1 })
  await oauth.setConsent('u-other', { clientId: 'dyn', scope: 'openid', grantedAt: 2 })
  await createRedisUsers(client).getOrCreateUserByMobile('+8613900000002', { id: 'redis-u2', mobile: '+8613900000002', createdAt: 5 })
  await migrate(databaseUrl)
  const db = createPostgres(databaseUrl)
  t.teardown(() => db.close())
  await db.query("INSERT INTO ac_users (id, mobile, password_hash, created_at) VALUES ('pg-u2', '+8613900000002', 'keep-me', 9)")

  const first = runCopy(env)
  t.equal(first.status, 0, first.stderr)
  t.match(first.stdout, 'users: copied 1, already there 0\n')
  t.match(first.stdout, 'clients: copied 1, already there 0\n')
  t.match(first.stdout, 'consents: copied 2, already there 0\n')
  t.match(first.stdout, 'keys: copied 1, already there 0\n')
  t.match(first.stdout, 'user redis-u2 skipped: PostgreSQL has user pg-u2 under the same mobile\n')
  t.strictSame((await db.query('SELECT id, password_hash, created_at FROM ac_users WHERE mobile = $1', ['+8613900000002'])).rows,
    [{ id: 'pg-u2', password_hash: 'keep-me', created_at: '9' }], 'the conflicting row is left as it was')

  const second = runCopy(env)
  t.equal(second.status, 0, second.stderr)
  t.match(second.stdout, 'users: copied 0, already there 1\n')
  t.match(second.stdout, 'clients: copied 0, already there 1\n')
  t.match(second.stdout, 'consents: copied 0, already there 2\n')
  t.match(second.stdout, 'keys: copied 0, already there 1\n')
  t.strictSame((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM ac_users')).rows, [{ n: 2 }])

  // The PostgreSQL deployment (own data directory: the keys can only have come from the copy).
  const stores: Array<Record<string, string>> = [{ DATABASE_URL: databaseUrl }, { DATABASE_URL: databaseUrl, REDIS_URL: redisServer.url }]
  for (const store of stores) {
    const onPg = await startAuthCenter({ ...store, AUTH_KEK: KEK, AUTH_ADMIN_TOKEN: ADMIN_TOKEN })
    const again = await onPg.call('POST', '/auth/login', { mobile: TEST_MOBILE, password: PASSWORD })
    t.equal(again.status, 200, 'the same password')
    t.equal(again.body.user.id, userId, 'the same user id')
    t.equal(await clientCredentials(onPg.url, 'dyn', secret), 200, 'the client gets tokens')
    t.strictSame((await onPg.call('GET', '/.well-known/jwks.json')).body.keys.map((k: { kid: string }) => k.kid).sort(), kids, 'the same kid set')
    await onPg.close()
  }
})
