import t from 'tap'
import { startAuthCenter, TEST_MOBILE, TEST_OTP } from '../helpers/auth-center.js'

t.test('passwords: set with a code, log in with it, change it', async (t) => {
  const ac = await startAuthCenter()
  t.teardown(() => ac.close())
  const first = (await ac.call('POST', '/auth/login', { mobile: TEST_MOBILE, code: TEST_OTP })).body
  const other = (await ac.call('POST', '/auth/login', { mobile: TEST_MOBILE, code: TEST_OTP })).body
  const bearer = { authorization: `Bearer ${first.access_token}` }

  t.test('setting the first password needs a code, not a current password', async (t) => {
    const missing = await ac.call('PUT', '/auth/password', { new_password: 'correct horse battery' }, bearer)
    t.equal(missing.status, 400)
    t.equal(missing.body.code, 'CURRENT_PASSWORD_REQUIRED')
    const weak = await ac.call('PUT', '/auth/password', { new_password: 'short', code: TEST_OTP }, bearer)
    t.equal(weak.body.code, 'WEAK_PASSWORD')
    const set = await ac.call('PUT', '/auth/password', { new_password: 'correct horse battery', code: TEST_OTP }, bearer)
    t.equal(set.status, 204)
  })

  t.test('changing the password revoked every other session', async (t) => {
    const r = await ac.call('POST', '/auth/refresh', { refresh_token: other.refresh_token })
    t.equal(r.status, 401)
    t.equal(r.body.code, 'SESSION_REVOKED')
    const mine = await ac.call('POST', '/auth/refresh', { refresh_token: first.refresh_token })
    t.equal(mine.status, 200, 'the session that changed it lives on')
  })

  t.test('the change wrote ONE u:<userId> denylist entry sparing the session that made it', async (t) => {
    const { entries } = await ac.app.revocationFeed.load()
    const user = entries.filter((e) => e.startsWith(`u:${first.user.id}=`))
    t.equal(user.length, 1)
    t.match(user[0], new RegExp(`^u:${first.user.id}=\\d+:\\d+:${first.session_id}$`), 'revokedAt:expiresAt:exceptSid')
    t.notOk(entries.some((e) => e.startsWith(`s:${other.session_id}=`)), 'no per-session entry needed')
  })

  t.test('logs in with the password; a wrong one is INVALID_CREDENTIALS like an unknown number', async (t) => {
    const ok = await ac.call('POST', '/auth/login', { mobile: '13800000000', password: 'correct horse battery' })
    t.equal(ok.status, 200)
    t.equal(ok.body.user.id, first.user.id)
    const wrong = await ac.call('POST', '/auth/login', { mobile: TEST_MOBILE, password: 'wrong horse battery' })
    const unknown = await ac.call('POST', '/auth/login', { mobile: '+8613811112222', password: 'wrong horse battery' })
    t.equal(wrong.status, 401)
    t.equal(wrong.body.code, 'INVALID_CREDENTIALS')
    t.same(unknown.body, wrong.body, 'same answer whether or not the account exists')
  })

  t.test('a change needs the current password once one is set', async (t) => {
    const noCurrent = await ac.call('PUT', '/auth/password', { new_password: 'another good one', code: TEST_OTP }, bearer)
    t.equal(noCurrent.body.code, 'CURRENT_PASSWORD_REQUIRED')
    const wrong = await ac.call('PUT', '/auth/password', { new_password: 'another good one', current_password: 'nope nope' }, bearer)
    t.equal(wrong.body.code, 'INVALID_CREDENTIALS')
    const ok = await ac.call('PUT', '/auth/password', { new_password: 'another good one', current_password: 'correct horse battery' }, bearer)
    t.equal(ok.status, 204)
    t.equal((await ac.call('POST', '/auth/login', { mobile: TEST_MOBILE, password: 'another good one' })).status, 200)
  })

  t.test('without a valid access token it is 401', async (t) => {
    const r = await ac.call('PUT', '/auth/password', { new_password: 'whatever123' })
    t.equal(r.status, 401)
    t.equal(r.body.code, 'TOKEN_MISSING')
  })
})

t.test('password attempts are throttled per account', async (t) => {
  const ac = await startAuthCenter()
  t.teardown(() => ac.close())
  let last
  for (let i = 0; i < 6; i++) last = await ac.call('POST', '/auth/login', { mobile: '+8613812345678', password: 'guess number ' + i })
  t.equal(last!.status, 429)
  t.equal(last!.body.code, 'RATE_LIMITED')
  t.ok(Number(last!.headers.get('retry-after')) > 0)
})
