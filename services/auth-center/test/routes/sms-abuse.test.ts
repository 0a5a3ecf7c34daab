import t, { type Test } from 'tap'
import { startRedis } from '@authcenter/testkit'
import { startAuthCenter, sleep, TEST_MOBILE, TEST_OTP, type RunningAuthCenter } from '../helpers/auth-center.js'

// Issue #12, "Abuse controls": SMS budgets that cannot be turned against the user.
for (const driver of ['memory', 'redis'] as const) {
  t.test(`${driver} store`, async (t) => {
    await budgets(t, async (t, env) => {
      // A redis-server per auth center: the budgets are global keys, tests must not share them.
      const redis = driver === 'redis' ? await startRedis() : undefined
      const ac = await startAuthCenter({ ...(redis !== undefined ? { REDIS_URL: redis.url } : {}), ...env })
      t.teardown(async () => { await ac.close(); await redis?.close() })
      return ac
    })
  })
}

async function budgets (t: Test, start: (t: Test, env?: Record<string, string>) => Promise<RunningAuthCenter>): Promise<void> {
  t.test('eleven requests for one number inside the cooldown do not lock it out for a day', async (t) => {
    // The finding: every cooldown refusal counted against the daily cap of 10, so the
    // eleventh request answered Retry-After: 86400 and the number stayed locked for 24 h.
    const ac = await start(t)
    const mobile = '+8613800138001'
    const answers = []
    for (let i = 0; i < 11; i++) answers.push(await ac.call('POST', '/auth/sms-code', { mobile }))
    t.equal(answers[0]!.status, 202)
    t.strictSame(answers.slice(1).map((r) => [r.status, r.body.code]), Array.from({ length: 10 }, () => [429, 'RATE_LIMITED']), 'ten cooldown refusals')
    for (const r of answers.slice(1)) t.ok(Number(r.headers.get('retry-after')) <= 60, `Retry-After ${String(r.headers.get('retry-after'))}: the cooldown, not a day`)
    t.equal(ac.sms.sent.length, 1)
    t.equal(await ac.app.deps.store.countHits(`sms:mobile:${mobile}`), 1, 'only the code that was sent counts against the number')
    t.equal(await ac.app.deps.store.countHits('sms:ip:127.0.0.1'), 1, 'and against the address')

    // The minute passes (ending the cooldown the way the store does, without waiting it out).
    await ac.app.deps.store.cancelSmsCode(mobile)
    const next = await ac.call('POST', '/auth/sms-code', { mobile })
    t.equal(next.status, 202, 'after the cooldown the number gets its next code, not 429 for a day')
    t.equal(ac.sms.sent.length, 2)
  })

  t.test('one client cannot spend another person\'s number for the day: a budget per address and number', async (t) => {
    const ac = await start(t, { SMS_RESEND_COOLDOWN: '1ms', SMS_DAILY_LIMIT_MOBILE: '3', SMS_DAILY_LIMIT_IP_MOBILE: '2', TRUST_PROXY: '127.0.0.1' })
    const mobile = '+8613800138002'
    const from = (ip: string): Record<string, string> => ({ 'x-forwarded-for': ip })
    for (let i = 0; i < 2; i++) {
      t.equal((await ac.call('POST', '/auth/sms-code', { mobile }, from('198.51.100.1'))).status, 202)
      await sleep(5)
    }
    const third = await ac.call('POST', '/auth/sms-code', { mobile }, from('198.51.100.1'))
    t.equal(third.status, 429)
    t.equal(third.body.code, 'RATE_LIMITED')
    t.match(third.body.message, /this address to this number/)
    t.equal(await ac.app.deps.store.countHits(`sms:mobile:${mobile}`), 2, 'the refusal took nothing from the number')

    const owner = await ac.call('POST', '/auth/sms-code', { mobile }, from('203.0.113.5'))
    t.equal(owner.status, 202, 'the number\'s owner, elsewhere, still gets a code')
    await sleep(5)
    t.equal((await ac.call('POST', '/auth/sms-code', { mobile: '+8613800138003' }, from('198.51.100.1'))).status, 202,
      'the first client may still ask for other numbers')
    t.equal(ac.sms.sent.length, 4)
  })

  t.test('only allowed countries get codes: SMS_ALLOWED_COUNTRIES, default +86, +852, +853', async (t) => {
    const ac = await start(t)
    for (const mobile of ['+12025550123', '+447700900123', '+882345678901', '+8861234567890']) {
      const r = await ac.call('POST', '/auth/sms-code', { mobile })
      t.equal(r.status, 400, mobile)
      t.equal(r.body.code, 'SMS_COUNTRY_NOT_ALLOWED', mobile)
    }
    for (const mobile of ['+8613800138004', '+85291234567', '+85366123456']) {
      t.equal((await ac.call('POST', '/auth/sms-code', { mobile })).status, 202, mobile)
    }
    t.equal(ac.sms.sent.length, 3)
    t.equal(await ac.app.deps.store.countHits('sms:ip:127.0.0.1'), 3, 'refused countries cost no budget')
  })

  t.test('SMS_ALLOWED_COUNTRIES replaces the default list', async (t) => {
    const ac = await start(t, { SMS_ALLOWED_COUNTRIES: '+44, +1' })
    t.equal((await ac.call('POST', '/auth/sms-code', { mobile: '+447700900123' })).status, 202)
    t.equal((await ac.call('POST', '/auth/sms-code', { mobile: '+12025550123' })).status, 202)
    t.equal((await ac.call('POST', '/auth/sms-code', { mobile: '+8613800138005' })).body.code, 'SMS_COUNTRY_NOT_ALLOWED')
    t.equal((await ac.call('POST', '/auth/sms-code', { mobile: TEST_MOBILE })).status, 202, 'test numbers send nothing, so they are exempt')
  })

  t.test('the global daily budget refuses with 503 SMS_BUDGET_EXHAUSTED and pages once', async (t) => {
    const ac = await start(t, { SMS_DAILY_LIMIT_GLOBAL: '2', TRUST_PROXY: '127.0.0.1' })
    const send = async (n: number): Promise<Awaited<ReturnType<typeof ac.call>>> =>
      await ac.call('POST', '/auth/sms-code', { mobile: `+861380013810${n}` }, { 'x-forwarded-for': `198.51.100.${n}` })
    t.equal((await send(1)).status, 202)
    t.equal((await send(2)).status, 202)
    const refused = []
    for (let n = 3; n < 8; n++) refused.push(await send(n))
    for (const r of refused) {
      t.equal(r.status, 503)
      t.equal(r.body.code, 'SMS_BUDGET_EXHAUSTED')
      t.ok(Number(r.headers.get('retry-after')) > 0, 'Retry-After until the window ends')
    }
    t.equal(ac.sms.sent.length, 2)
    t.equal(await ac.app.deps.store.countHits('sms:global'), 2, 'refusals are not counted')
    t.equal(await ac.app.deps.store.countHits('sms:mobile:+8613800138103'), 0, 'nor against the refused numbers')
    const errors = ac.logs.filter((l) => JSON.parse(l).level === 50)
    t.equal(errors.length, 1, 'exactly one error line for five refusals')
    t.match(errors[0], /SMS_DAILY_LIMIT_GLOBAL exhausted/)
    t.notOk(ac.logs.join('').includes('8613800138103'), 'no full number in the logs')
  })
}

t.test('fixed test codes take five wrong guesses, like a real code', async (t) => {
  const ac = await startAuthCenter({ SMS_TEST_OTP: `${TEST_MOBILE}:${TEST_OTP},+8613800000009:654321` })
  t.teardown(() => ac.close())
  for (let i = 0; i < 3; i++) t.equal((await ac.call('POST', '/auth/login', { mobile: TEST_MOBILE, code: TEST_OTP })).status, 200, 'right codes use no tries')
  // The finding: a fixed code took unlimited wrong guesses. Ten at once: all refused.
  const guesses = await Promise.all(Array.from({ length: 10 }, async (_v, i) =>
    await ac.call('POST', '/auth/login', { mobile: TEST_MOBILE, code: String(100000 + i) })))
  t.strictSame(guesses.map((r) => r.body.code), Array.from({ length: 10 }, () => 'INVALID_CODE'))
  const late = await ac.call('POST', '/auth/login', { mobile: TEST_MOBILE, code: TEST_OTP })
  t.equal(late.status, 400)
  t.equal(late.body.code, 'INVALID_CODE', 'after five wrong guesses the right code is refused too')
  t.equal((await ac.call('POST', '/auth/login', { mobile: '+8613800000009', code: '654321' })).status, 200, 'other test numbers keep their tries')
})

t.test('exactly five wrong guesses are allowed before the fixed code dies', async (t) => {
  const ac = await startAuthCenter()
  t.teardown(() => ac.close())
  for (let i = 0; i < 4; i++) t.equal((await ac.call('POST', '/auth/login', { mobile: TEST_MOBILE, code: '000001' })).body.code, 'INVALID_CODE')
  t.equal((await ac.call('POST', '/auth/login', { mobile: TEST_MOBILE, code: TEST_OTP })).status, 200, 'after four, the right one still works')
  t.equal((await ac.call('POST', '/auth/login', { mobile: TEST_MOBILE, code: '000001' })).body.code, 'INVALID_CODE', 'the fifth wrong guess')
  t.equal((await ac.call('POST', '/auth/login', { mobile: TEST_MOBILE, code: TEST_OTP })).body.code, 'INVALID_CODE', 'and now it is dead')
})
