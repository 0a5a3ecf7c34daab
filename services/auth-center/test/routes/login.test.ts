import t from 'tap'
import { startAuthCenter, TEST_MOBILE, TEST_OTP } from '../helpers/auth-center.js'

t.test('login with an SMS code', async (t) => {
  const ac = await startAuthCenter({ SMS_RESEND_COOLDOWN: '1s' })
  t.teardown(() => ac.close())

  t.test('sends a code and logs in with it, creating the account once', async (t) => {
    const sent = await ac.call('POST', '/auth/sms-code', { mobile: '13800138000' })
    t.equal(sent.status, 202)
    t.same(sent.body, { expires_in: 300, retry_after: 1 })
    const code = ac.sms.lastCode('+8613800138000')
    t.match(code, /^\d{6}$/)

    const login = await ac.call('POST', '/auth/login', { mobile: '+8613800138000', code, device: { name: 'test phone' } })
    t.equal(login.status, 200)
    t.equal(login.body.user.mobile, '+8613800138000')
    t.equal(login.body.token_type, 'Bearer')
    t.equal(login.body.expires_in, 120)
    t.equal(login.body.refresh_expires_in, 15 * 86400)
    t.type(login.body.session_id, 'string')
    t.equal(login.headers.get('cache-control'), 'no-store')

    t.equal((await ac.call('POST', '/auth/login', { mobile: '+8613800138000', code })).body.code, 'INVALID_CODE', 'a code works once')

    await new Promise((resolve) => setTimeout(resolve, 1100))
    await ac.call('POST', '/auth/sms-code', { mobile: '+86 138-0013-8000' })
    const again = await ac.call('POST', '/auth/login', { mobile: '13800138000', code: ac.sms.lastCode('+8613800138000') })
    t.equal(again.status, 200)
    t.equal(again.body.user.id, login.body.user.id, 'the second login finds the same account')
    t.not(again.body.session_id, login.body.session_id)
  })

  t.test('a wrong code is INVALID_CODE, and five wrong tries kill the code', async (t) => {
    const mobile = '+8613900139000'
    await ac.call('POST', '/auth/sms-code', { mobile })
    const code = ac.sms.lastCode(mobile)
    const wrong = code === '000000' ? '111111' : '000000'
    for (let i = 0; i < 5; i++) {
      const r = await ac.call('POST', '/auth/login', { mobile, code: wrong })
      t.equal(r.status, 400)
      t.equal(r.body.code, 'INVALID_CODE')
    }
    const late = await ac.call('POST', '/auth/login', { mobile, code })
    t.equal(late.body.code, 'INVALID_CODE', 'the right code no longer works after five wrong tries')
  })

  t.test('an unknown number gets the same answer as a known one', async (t) => {
    const r = await ac.call('POST', '/auth/login', { mobile: '+8613700137000', code: '123456' })
    t.equal(r.status, 400)
    t.equal(r.body.code, 'INVALID_CODE')
  })

  t.test('the resend cooldown answers 429 RATE_LIMITED with Retry-After', async (t) => {
    const mobile = '+8613600136000'
    t.equal((await ac.call('POST', '/auth/sms-code', { mobile })).status, 202)
    const r = await ac.call('POST', '/auth/sms-code', { mobile })
    t.equal(r.status, 429)
    t.equal(r.body.code, 'RATE_LIMITED')
    t.equal(r.headers.get('retry-after'), '1')
  })

  t.test('test OTP numbers send nothing, skip the cooldown and accept their fixed code again', async (t) => {
    const before = ac.sms.sent.length
    for (let i = 0; i < 3; i++) t.equal((await ac.call('POST', '/auth/sms-code', { mobile: TEST_MOBILE })).status, 202)
    t.equal(ac.sms.sent.length, before)
    t.equal((await ac.call('POST', '/auth/login', { mobile: TEST_MOBILE, code: TEST_OTP })).status, 200)
    t.equal((await ac.call('POST', '/auth/login', { mobile: TEST_MOBILE, code: TEST_OTP })).status, 200)
    t.equal((await ac.call('POST', '/auth/login', { mobile: TEST_MOBILE, code: '654321' })).body.code, 'INVALID_CODE')
  })

  t.test('refuses numbers that are neither Chinese mobile nor E.164', async (t) => {
    for (const mobile of ['12345', '+86123', '23800138000', 'abcdefgh', '+0123456789']) {
      const r = await ac.call('POST', '/auth/sms-code', { mobile })
      t.equal(r.status, 400, mobile)
      t.equal(r.body.code, 'INVALID_MOBILE', mobile)
    }
  })
})

t.test('the daily cap per client IP answers 429', async (t) => {
  const ac = await startAuthCenter({ SMS_DAILY_LIMIT_IP: '2' })
  t.teardown(() => ac.close())
  t.equal((await ac.call('POST', '/auth/sms-code', { mobile: '+8613800000001' })).status, 202)
  t.equal((await ac.call('POST', '/auth/sms-code', { mobile: '+8613800000002' })).status, 202)
  const r = await ac.call('POST', '/auth/sms-code', { mobile: '+8613800000003' })
  t.equal(r.status, 429)
  t.equal(r.body.code, 'RATE_LIMITED')
  t.ok(Number(r.headers.get('retry-after')) > 0)
})

t.test('the daily cap per number answers 429', async (t) => {
  const ac = await startAuthCenter({ SMS_DAILY_LIMIT_MOBILE: '1', SMS_RESEND_COOLDOWN: '1ms' })
  t.teardown(() => ac.close())
  t.equal((await ac.call('POST', '/auth/sms-code', { mobile: '+8613800000001' })).status, 202)
  await new Promise((resolve) => setTimeout(resolve, 20))
  const r = await ac.call('POST', '/auth/sms-code', { mobile: '+8613800000001' })
  t.equal(r.status, 429)
  t.equal(r.body.code, 'RATE_LIMITED')
})
