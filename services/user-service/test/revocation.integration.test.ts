import t, { type Test } from 'tap'
import { startRedis } from '@authcenter/testkit'
import { startPair } from './with-auth-center.js'

const ADMIN = 'integration-admin-credential-0123'
const J = { 'content-type': 'application/json' }

/**
 * The pair with the default configuration: the user service follows the auth center's
 * HTTP revocation feed with the built-in development reader (no REVOCATION_* set),
 * whether the auth center runs on the memory store (the `pnpm start` default) or on Redis.
 */
function startOn (t: Test, redisUrl?: string) {
  const redis = redisUrl !== undefined ? { REDIS_URL: redisUrl } : undefined
  return startPair(t, { authEnv: { AUTH_ADMIN_TOKEN: ADMIN, ...redis } })
}

async function login (issuer: string, device: string): Promise<{ access_token: string, session_id: string, user: { id: string } }> {
  const r = await fetch(`${issuer}/auth/login`, { method: 'POST', headers: J, body: JSON.stringify({ mobile: '13800000000', code: '123456', device: { name: device } }) })
  // Said here, not later as a puzzling TOKEN_MALFORMED for a missing access token.
  if (r.status !== 200) throw new Error(`login answered ${r.status}: ${await r.text()}`)
  return await r.json() as never
}

async function mine (usersUrl: string, token: string): Promise<{ status: number, code?: string }> {
  const r = await fetch(`${usersUrl}/user/mine`, { headers: { authorization: `Bearer ${token}` } })
  const body = await r.json() as { code?: string }
  return { status: r.status, code: body.code }
}

/** Polls until the user service refuses (the feed is asynchronous across processes); bounded. */
async function refusedWithin (usersUrl: string, token: string, ms: number): Promise<{ status: number, code?: string, after: number }> {
  const started = Date.now()
  for (;;) {
    const r = await mine(usersUrl, token)
    if (r.status !== 200 || Date.now() - started > ms) return { ...r, after: Date.now() - started }
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

for (const mode of ['redis', 'memory'] as const) {
  t.test(`revocations reach the user service before the access token expires (${mode})`, async (t) => {
    let redisUrl: string | undefined
    if (mode === 'redis') {
      const redis = await startRedis()
      t.teardown(() => redis.close())
      redisUrl = redis.url
    }
    const { issuer, usersUrl } = await startOn(t, redisUrl)

    t.test('logout at the auth center: the user service answers 401 TOKEN_REVOKED', async (t) => {
      const s = await login(issuer, 'tablet')
      t.equal((await mine(usersUrl, s.access_token)).status, 200)
      const out = await fetch(`${issuer}/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${s.access_token}` } })
      t.equal(out.status, 204)
      const r = await refusedWithin(usersUrl, s.access_token, 2000)
      t.equal(r.status, 401)
      t.equal(r.code, 'TOKEN_REVOKED')
    })

    t.test('kick a device: its next request fails with TOKEN_REVOKED', async (t) => {
      const phone = await login(issuer, 'phone')
      const laptop = await login(issuer, 'laptop')
      t.equal((await mine(usersUrl, phone.access_token)).status, 200)
      const kick = await fetch(`${issuer}/auth/sessions/${phone.session_id}`, { method: 'DELETE', headers: { authorization: `Bearer ${laptop.access_token}` } })
      t.equal(kick.status, 204)
      const r = await refusedWithin(usersUrl, phone.access_token, 2000)
      t.equal(r.status, 401)
      t.equal(r.code, 'TOKEN_REVOKED')
      t.equal((await mine(usersUrl, laptop.access_token)).status, 200, 'the other device is untouched')
    })

    t.test('an admin "log out everywhere" covers every token of the user, sessions never seen included', async (t) => {
      const a = await login(issuer, 'a')
      const b = await login(issuer, 'b') // never used at the user service before the revocation
      const out = await fetch(`${issuer}/admin/users/${a.user.id}/logout`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}` } })
      t.equal(out.status, 200)
      t.equal((await refusedWithin(usersUrl, a.access_token, 2000)).code, 'TOKEN_REVOKED')
      t.equal((await refusedWithin(usersUrl, b.access_token, 2000)).code, 'TOKEN_REVOKED')
    })
  })
}
