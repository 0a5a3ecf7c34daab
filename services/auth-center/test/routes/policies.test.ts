import t, { type Test } from 'tap'
import { createHash, randomUUID } from 'node:crypto'
import { rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { tmpdir } from 'node:os'
import { claimsOf, dpopKey } from '../helpers/dpop.js'
import { sleep, startAuthCenter, TEST_MOBILE, TEST_OTP } from '../helpers/auth-center.js'

const ADMIN = 'admin-credential-for-tests-0123456789'


async function withClients (t: Test) {
  const file = join(tmpdir(), `clients-${randomUUID()}.json`)
  t.teardown(() => rm(file, { force: true }))
  await writeFile(file, JSON.stringify({
    clients: [
      { client_id: 'legacy', policy: { refresh: false } },
      { client_id: 'slider', policy: { sliding: { idle: '2s', max: '6s' } } },
      { client_id: 'app', policy: { binding: 'dpop' } },
      { client_id: 'browser', policy: { binding: 'cookie' } }
    ]
  }))
  const ac = await startAuthCenter({ AUTH_CLIENTS_FILE: file, AUTH_ADMIN_TOKEN: ADMIN })
  t.teardown(() => ac.close())
  return ac
}

t.test('token policies per client', async (t) => {
  const ac = await withClients(t)
  const login = (client_id: string, headers: Record<string, string> = {}) =>
    ac.call('POST', '/auth/login', { mobile: TEST_MOBILE, code: TEST_OTP, client_id }, headers)
  const riskEvents = async (userId: string) => (await ac.call('GET', `/admin/users/${userId}/risk-events`, undefined, { authorization: `Bearer ${ADMIN}` })).body.events

  t.test('an unknown client is 400 UNKNOWN_CLIENT', async (t) => {
    const r = await login('nope')
    t.equal(r.status, 400)
    t.equal(r.body.code, 'UNKNOWN_CLIENT')
  })

  t.test('single access token: one longer-lived token and no refresh token', async (t) => {
    const r = await login('legacy')
    t.equal(r.status, 200)
    t.equal(r.body.expires_in, 3600)
    t.notOk('refresh_token' in r.body)
    t.notOk('refresh_expires_in' in r.body)
    t.equal(claimsOf(r.body.access_token).client_id, 'legacy')
  })

  t.test('sliding session: renews until max and no longer', async (t) => {
    const r = await login('slider')
    t.equal(r.status, 200)
    t.notOk('refresh_token' in r.body)
    t.equal(r.body.expires_in, 2)
    t.equal(r.body.session_expires_in, 6)
    const start = claimsOf(r.body.access_token).iat
    await sleep(1100)
    const [a, b] = await Promise.all([
      ac.call('POST', '/auth/slide', undefined, { authorization: `Bearer ${r.body.access_token}` }),
      ac.call('POST', '/auth/slide', { token: r.body.access_token })
    ])
    t.equal(a.status, 200)
    t.equal(b.status, 200)
    const expA = claimsOf(a.body.access_token).exp
    const expB = claimsOf(b.body.access_token).exp
    t.ok(Math.abs(expA - expB) <= 1, 'two renewals at once reach the same bound (within the second they ran in)')
    t.ok(expA <= start + 6 && expB <= start + 6, 'never past the session maximum')

    await sleep(1600) // the first token has expired by now, within the tolerance
    const late = await ac.call('POST', '/auth/slide', undefined, { authorization: `Bearer ${r.body.access_token}` })
    t.equal(late.status, 200, 'a just-expired token still renews')
    t.ok(claimsOf(late.body.access_token).exp <= start + 6)
    const near = await ac.call('POST', '/auth/slide', undefined, { authorization: `Bearer ${late.body.access_token}` })
    // Near the end the bound is the session maximum itself: every renewal lands on it.
    await sleep(Math.max(0, (start + 5) * 1000 - Date.now()))
    const [c, d] = await Promise.all([
      ac.call('POST', '/auth/slide', undefined, { authorization: `Bearer ${near.body.access_token}` }),
      ac.call('POST', '/auth/slide', undefined, { authorization: `Bearer ${near.body.access_token}` })
    ])
    for (const res of [c, d]) {
      // On a loaded machine the call may land after the maximum: then it must be SESSION_EXPIRED, never a longer token.
      if (res.status === 200) t.equal(claimsOf(res.body.access_token).exp, start + 6, 'capped at the maximum')
      else t.equal(res.body.code, 'SESSION_EXPIRED')
    }

    await sleep(Math.max(0, (start + 6) * 1000 + 200 - Date.now()))
    const over = await ac.call('POST', '/auth/slide', undefined, { authorization: `Bearer ${a.body.access_token}` })
    t.equal(over.status, 401)
    t.equal(over.body.code, 'SESSION_EXPIRED', 'after max the user must log in')
  })

  t.test('sliding is refused once the session is revoked, and for clients that do not slide', async (t) => {
    const r = await login('slider')
    t.equal((await ac.call('POST', '/auth/logout', undefined, { authorization: `Bearer ${r.body.access_token}` })).status, 204)
    const s = await ac.call('POST', '/auth/slide', undefined, { authorization: `Bearer ${r.body.access_token}` })
    t.equal(s.body.code, 'SESSION_REVOKED')
    const d = await login('default')
    const n = await ac.call('POST', '/auth/slide', undefined, { authorization: `Bearer ${d.body.access_token}` })
    t.equal(n.body.code, 'SLIDING_NOT_ALLOWED')
    const refresh = await ac.call('POST', '/auth/slide', undefined, { authorization: 'Bearer not-a-token' })
    t.equal(refresh.status, 401)
  })

  t.test('DPoP: login and refresh need a proof; tokens carry cnf.jkt', async (t) => {
    const key = await dpopKey()
    const missing = await login('app')
    t.equal(missing.status, 400)
    t.equal(missing.body.code, 'INVALID_DPOP_PROOF')
    const wrongUrl = await login('app', { dpop: await key.proof('http://auth.test/auth/refresh') })
    t.equal(wrongUrl.body.code, 'INVALID_DPOP_PROOF', 'a proof for another URL')

    const proof = await key.proof('http://auth.test/auth/login')
    const r = await login('app', { dpop: proof })
    t.equal(r.status, 200)
    t.equal(r.body.token_type, 'DPoP')
    t.same(claimsOf(r.body.access_token).cnf, { jkt: key.jkt })
    const replay = await login('app', { dpop: proof })
    t.equal(replay.body.code, 'INVALID_DPOP_PROOF', 'a replayed proof')

    const refreshed = await ac.call('POST', '/auth/refresh', { refresh_token: r.body.refresh_token }, { dpop: await key.proof('http://auth.test/auth/refresh') })
    t.equal(refreshed.status, 200)
    t.same(claimsOf(refreshed.body.access_token).cnf, { jkt: key.jkt })

    const thief = await dpopKey()
    const stolen = await ac.call('POST', '/auth/refresh', { refresh_token: refreshed.body.refresh_token }, { dpop: await thief.proof('http://auth.test/auth/refresh') })
    t.equal(stolen.status, 401)
    t.equal(stolen.body.code, 'TOKEN_BINDING_MISMATCH')
    const after = await ac.call('POST', '/auth/refresh', { refresh_token: refreshed.body.refresh_token }, { dpop: await key.proof('http://auth.test/auth/refresh') })
    t.equal(after.body.code, 'SESSION_REVOKED', 'the session is revoked')
    const events = await riskEvents(r.body.user.id)
    t.match(events[0], { reason: 'dpop_key_mismatch', refused: true, session_id: r.body.session_id, client_id: 'app' })
  })

  t.test('DPoP: a client with a skewed clock gets a nonce and succeeds with it', async (t) => {
    const key = await dpopKey()
    const skewed = Math.floor(Date.now() / 1000) - 3600
    const first = await login('app', { dpop: await key.proof('http://auth.test/auth/login', { iat: skewed }) })
    t.equal(first.status, 400)
    t.equal(first.body.code, 'USE_DPOP_NONCE')
    const nonce = first.headers.get('dpop-nonce')
    t.ok(nonce)
    const second = await login('app', { dpop: await key.proof('http://auth.test/auth/login', { iat: skewed, nonce }) })
    t.equal(second.status, 200)
  })

  t.test('cookie binding: a __Host- fingerprint cookie, its hash in the token; refresh without it is refused', async (t) => {
    const r = await login('browser')
    t.equal(r.status, 200)
    const setCookie = r.headers.get('set-cookie') ?? ''
    t.match(setCookie, /^__Host-ac_fgp=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=\d+; Secure; HttpOnly; SameSite=Strict$/)
    const fingerprint = /^__Host-ac_fgp=([^;]+)/.exec(setCookie)![1]!
    t.equal(claimsOf(r.body.access_token).cnf.fgp, createHash('sha256').update(fingerprint).digest('base64url'))

    const ok = await ac.call('POST', '/auth/refresh', { refresh_token: r.body.refresh_token }, { cookie: `__Host-ac_fgp=${fingerprint}` })
    t.equal(ok.status, 200)
    const bare = await ac.call('POST', '/auth/refresh', { refresh_token: ok.body.refresh_token })
    t.equal(bare.status, 401)
    t.equal(bare.body.code, 'TOKEN_BINDING_MISMATCH')
    const events = await riskEvents(r.body.user.id)
    t.match(events[0], { reason: 'fingerprint_missing', refused: true })
  })

  t.test('a changed user agent on refresh is recorded, not refused; a replay is recorded', async (t) => {
    const r = await login('default', { 'user-agent': 'phone/1.0' })
    const moved = await ac.call('POST', '/auth/refresh', { refresh_token: r.body.refresh_token }, { 'user-agent': 'laptop/2.0' })
    t.equal(moved.status, 200)
    await ac.call('POST', '/auth/refresh', { refresh_token: moved.body.refresh_token }, { 'user-agent': 'phone/1.0' })
    await sleep(350)
    const replay = await ac.call('POST', '/auth/refresh', { refresh_token: r.body.refresh_token }, { 'user-agent': 'phone/1.0' })
    t.equal(replay.body.code, 'REFRESH_TOKEN_REUSED')
    const reasons = (await riskEvents(r.body.user.id)).filter((e: { session_id: string }) => e.session_id === r.body.session_id).map((e: { reason: string, refused: boolean }) => `${e.reason}:${e.refused}`)
    t.ok(reasons.includes('user_agent_changed:false'))
    t.ok(reasons.includes('refresh_token_reused:true'))
  })
})
