import t, { type Test } from 'tap'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { build as buildAuthCenter, loadConfig as loadAuthConfig } from '@authcenter/auth-center'
import { freePort, startRedis } from '@authcenter/testkit'
import { build } from '../src/app.js'
import { loadConfig } from '../src/config.js'

const ADMIN = 'integration-admin-credential-0123'
const J = { 'content-type': 'application/json' }

interface Pair { issuer: string, usersUrl: string, auth: FastifyInstance }

/** The auth center and the user service, either on one real Redis (two "processes") or in one process with the memory store. */
async function startPair (t: Test, redisUrl?: string): Promise<Pair> {
  const dataDir = await mkdtemp(join(tmpdir(), 'ac-rev-'))
  const avatarDir = await mkdtemp(join(tmpdir(), 'us-rev-'))
  const port = await freePort()
  const issuer = `http://127.0.0.1:${port}`
  const auth = await buildAuthCenter(loadAuthConfig({
    AUTH_ISSUER: issuer, AUTH_DATA_DIR: dataDir, SMS_TEST_OTP: '+8613800000000:123456', LOG_LEVEL: 'silent',
    AUTH_ADMIN_TOKEN: ADMIN, ...(redisUrl !== undefined ? { REDIS_URL: redisUrl } : {})
  }))
  await auth.listen({ host: '127.0.0.1', port })
  const users = await build(
    loadConfig({ AUTH_ISSUER: issuer, AVATAR_DIR: avatarDir, LOG_LEVEL: 'silent', ...(redisUrl !== undefined ? { REDIS_URL: redisUrl } : {}) }),
    redisUrl === undefined ? { revocationSource: auth.revocationFeed } : {}
  )
  const usersUrl = await users.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(async () => {
    await users.close()
    await auth.close()
    await rm(dataDir, { recursive: true, force: true })
    await rm(avatarDir, { recursive: true, force: true })
  })
  return { issuer, usersUrl, auth }
}

async function login (issuer: string, device: string): Promise<{ access_token: string, session_id: string, user: { id: string } }> {
  const r = await fetch(`${issuer}/auth/login`, { method: 'POST', headers: J, body: JSON.stringify({ mobile: '13800000000', code: '123456', device: { name: device } }) })
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
    const { issuer, usersUrl } = await startPair(t, redisUrl)

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
