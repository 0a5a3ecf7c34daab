import t from 'tap'
import { eachDriver } from '../helpers/drivers.js'
import { createHash, randomBytes } from 'node:crypto'
import { startAuthCenter, TEST_MOBILE, TEST_OTP } from '../helpers/auth-center.js'
import { Browser, PARTNER_REDIRECT, PARTNER_SECRET, loginAndConsent, startOAuthCenter } from '../oauth/helpers.js'

const ADMIN_TOKEN = 'admin-secret-0123456789abcdef'
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` }

eachDriver(t, async (t, env) => {
  const ac = await startAuthCenter({ ...env, AUTH_ADMIN_TOKEN: ADMIN_TOKEN })
  t.teardown(() => ac.close())
  const store = ac.app.deps.store
  const base = Date.parse('2026-11-01T00:00:00Z')
  const userId = `u-${Math.random().toString(36).slice(2)}`
  const types = ['login', 'login_failed', 'session_revoked'] as const
  for (let i = 0; i < 12; i++) {
    await store.recordEvent({ at: base + i * 1000, type: types[i % 3]!, userId, ip: '203.0.113.7', reason: String(i), refused: i % 3 === 1 })
  }
  await store.recordEvent({ at: base + 500, type: 'client_registered', clientId: 'c1', actor: 'admin-token', detail: { client_id: 'c1' } })

  t.test('GET /admin/events needs the admin credential', async (t) => {
    const r = await ac.call('GET', '/admin/events')
    t.equal(r.status, 401)
    t.equal(r.body.code, 'ADMIN_UNAUTHORIZED')
  })

  t.test('filters by user, comma-separated types and time, pages by next_cursor', async (t) => {
    const q = `/admin/events?user_id=${userId}&type=login,login_failed&since=2026-11-01T00:00:01Z&until=2026-11-01T00:00:10Z&limit=3`
    const first = await ac.call('GET', q, undefined, admin)
    t.equal(first.status, 200)
    t.strictSame(first.body.events.map((e: any) => e.reason), ['9', '7', '6'])
    t.strictSame(first.body.events[1], {
      id: first.body.events[1].id, at: '2026-11-01T00:00:07.000Z', type: 'login_failed', user_id: userId, session_id: null, client_id: null,
      ip: '203.0.113.7', user_agent: null, reason: '7', refused: true, actor: null, detail: null
    })
    const second = await ac.call('GET', `${q}&cursor=${encodeURIComponent(first.body.next_cursor)}`, undefined, admin)
    t.strictSame(second.body.events.map((e: any) => e.reason), ['4', '3', '1'])
    t.equal(second.body.next_cursor, null, 'the last page has no cursor')
  })

  t.test('default limit 50; every type; events without a user', async (t) => {
    const r = await ac.call('GET', '/admin/events?type=client_registered', undefined, admin)
    t.equal(r.body.events.length, 1)
    t.strictSame(r.body.events[0].detail, { client_id: 'c1' })
    t.equal(r.body.events[0].actor, 'admin-token')
    t.equal(r.body.next_cursor, null)
  })

  t.test('bad parameters are 400 FST_ERR_VALIDATION', async (t) => {
    for (const q of ['limit=0', 'limit=501', 'since=yesterday', 'cursor=abc', 'type=LOGIN', 'user_id=a%20b', 'other=1']) {
      const r = await ac.call('GET', `/admin/events?${q}`, undefined, admin)
      t.equal(r.status, 400, q)
      t.equal(r.body.code, 'FST_ERR_VALIDATION', q)
    }
  })
})

t.test('logins, failed logins, revocations and admin actions are recorded, with no code in them', async (t) => {
  const ac = await startAuthCenter({ AUTH_ADMIN_TOKEN: ADMIN_TOKEN })
  t.teardown(() => ac.close())
  const ok = await ac.call('POST', '/auth/login', { mobile: TEST_MOBILE, code: TEST_OTP })
  t.equal(ok.status, 200)
  t.equal((await ac.call('POST', '/auth/login', { mobile: TEST_MOBILE, code: '000000' })).status, 400)
  t.equal((await ac.call('POST', `/admin/users/${ok.body.user.id}/logout`, undefined, admin)).status, 200)
  const r = await ac.call('GET', '/admin/events', undefined, admin)
  t.strictSame(r.body.events.map((e: any) => e.type), ['admin_action', 'user_sessions_revoked', 'login_failed', 'login'])
  const [action, revoked, failed, login] = r.body.events
  t.match(action, { actor: 'admin-token', reason: 'POST /admin/users/:id/logout', detail: { id: ok.body.user.id, status: 200 } })
  t.match(revoked, { user_id: ok.body.user.id, reason: 'admin', detail: { count: 1 } })
  t.match(failed, { reason: 'INVALID_CODE', refused: true, detail: { method: 'sms' } })
  t.match(login, { user_id: ok.body.user.id, session_id: ok.body.session_id, reason: 'sms', client_id: 'default' })
  const text = JSON.stringify(r.body)
  for (const secret of [TEST_OTP, '000000', ok.body.access_token, ok.body.refresh_token]) t.notOk(text.includes(secret), 'no secret in the log')
})

t.test('admin client registrations and deletions are recorded as client_registered / client_deleted', async (t) => {
  const ac = await startAuthCenter({ AUTH_ADMIN_TOKEN: ADMIN_TOKEN })
  t.teardown(() => ac.close())
  const reg = await ac.call('POST', '/admin/clients', { client_id: 'audited', type: 'confidential', redirect_uris: ['https://a.example/cb'], grant_types: ['client_credentials'], scope: 'reports' }, admin)
  t.equal(reg.status, 201)
  t.equal((await ac.call('DELETE', '/admin/clients/audited', undefined, admin)).status, 200)
  const r = await ac.call('GET', '/admin/events?type=client_registered,client_deleted', undefined, admin)
  t.equal(r.body.events.length, 2)
  const byType = Object.fromEntries(r.body.events.map((e: any) => [e.type, e]))
  t.match(byType.client_registered, { client_id: 'audited', detail: { type: 'confidential' } })
  t.match(byType.client_deleted, { client_id: 'audited', detail: { revoked: 0 } })
  t.notOk(JSON.stringify(r.body).includes(reg.body.client_secret), 'no secret in the log')
})

t.test('an OAuth authorization_code grant is recorded as a login with reason authorization_code', async (t) => {
  const ac = await startOAuthCenter({ AUTH_ADMIN_TOKEN: ADMIN_TOKEN })
  t.teardown(() => ac.close())
  const verifier = randomBytes(32).toString('base64url')
  const params = new URLSearchParams({
    response_type: 'code', client_id: 'partner', redirect_uri: PARTNER_REDIRECT, scope: 'openid', state: 's1',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256'
  })
  const back = await loginAndConsent(new Browser(), `${ac.issuer}/oauth/authorize?${params}`, ac.issuer)
  const res = await fetch(`${ac.issuer}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`partner:${PARTNER_SECRET}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: back.searchParams.get('code') ?? '', redirect_uri: PARTNER_REDIRECT, code_verifier: verifier })
  })
  t.equal(res.status, 200)
  await res.text()
  const ev = await fetch(`${ac.issuer}/admin/events?type=login`, { headers: admin })
  const body = await ev.json() as { events: any[] }
  const grants = body.events.filter((e) => e.reason === 'authorization_code')
  t.equal(grants.length, 1)
  t.match(grants[0], { client_id: 'partner', type: 'login' })
})
