import t from 'tap'
import { startAuthCenter, TEST_MOBILE, TEST_OTP } from '../helpers/auth-center.js'

t.test('bad input is a 400 with a clear message, never a crash', async (t) => {
  const ac = await startAuthCenter()
  t.teardown(() => ac.close())

  const cases: Array<[string, string, unknown]> = [
    ['malformed JSON', '/auth/login', '{"mobile": "138'],
    ['wrong type', '/auth/login', { mobile: 13800138000, code: '123456' }],
    ['code not six digits', '/auth/login', { mobile: TEST_MOBILE, code: '12345' }],
    ['unknown field', '/auth/login', { mobile: TEST_MOBILE, code: TEST_OTP, admin: true }],
    ['neither code nor password', '/auth/login', { mobile: TEST_MOBILE }],
    ['both code and password', '/auth/login', { mobile: TEST_MOBILE, code: TEST_OTP, password: 'x' }],
    ['missing body', '/auth/refresh', {}],
    ['array body', '/auth/sms-code', [TEST_MOBILE]],
    ['oversized body', '/auth/sms-code', { mobile: TEST_MOBILE, pad: 'x'.repeat(64 * 1024) }]
  ]
  for (const [name, path, body] of cases) {
    const r = await ac.call('POST', path, body)
    t.equal(r.status, 400, name)
    t.type(r.body.code, 'string', `${name}: has a code`)
    t.type(r.body.message, 'string', `${name}: has a message`)
  }
  const ok = await ac.call('GET', '/healthz')
  t.equal(ok.status, 200, 'still serving')
})

t.test('tokens, codes and passwords never reach the logs', async (t) => {
  const ac = await startAuthCenter({ SMS_RESEND_COOLDOWN: '1ms' })
  t.teardown(() => ac.close())
  await ac.call('POST', '/auth/sms-code', { mobile: '+8613500135000' })
  const code = ac.sms.lastCode('+8613500135000')
  const login = (await ac.call('POST', '/auth/login', { mobile: '+8613500135000', code })).body
  await ac.call('PUT', '/auth/password', { new_password: 'a secret passphrase', code: TEST_OTP }, { authorization: `Bearer ${login.access_token}` })
  await ac.call('POST', '/auth/refresh', { refresh_token: login.refresh_token })
  await ac.call('POST', '/auth/login', { mobile: '+8613500135000', password: 'a wrong passphrase' })
  await ac.call('POST', '/auth/refresh', { refresh_token: 'garbage.token' })
  const all = ac.logs.join('')
  t.ok(all.length > 0, 'the app did log')
  for (const secret of [code, login.access_token, login.refresh_token, 'a secret passphrase', 'a wrong passphrase', login.refresh_token.split('.')[2]]) {
    t.notOk(all.includes(secret), 'a secret is not in the logs')
  }
})
