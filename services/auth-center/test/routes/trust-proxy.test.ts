import t from 'tap'
import { ipBudgetKey, normalizeIp } from '../../src/auth/client-ip.js'
import { startAuthCenter } from '../helpers/auth-center.js'

// Issue #12: TRUST_PROXY=true trusted any X-Forwarded-For, so every per-IP limit was one
// made-up header away, and even `not-an-ip` became a rate-limit key.
const sms = (n: number): { mobile: string } => ({ mobile: `+86138001390${String(n).padStart(2, '0')}` })
const xff = (value: string): Record<string, string> => ({ 'x-forwarded-for': value })

t.test('without TRUST_PROXY, X-Forwarded-For is ignored: made-up addresses share the real one\'s budget', async (t) => {
  const ac = await startAuthCenter({ SMS_DAILY_LIMIT_IP: '1' })
  t.teardown(() => ac.close())
  t.equal((await ac.call('POST', '/auth/sms-code', sms(1), xff('198.51.100.1'))).status, 202)
  const r = await ac.call('POST', '/auth/sms-code', sms(2), xff('198.51.100.2'))
  t.equal(r.status, 429)
  t.equal(r.body.code, 'RATE_LIMITED')
})

t.test('behind a listed proxy, a forwarded entry that is no IP address falls back to the socket address', async (t) => {
  const ac = await startAuthCenter({ SMS_DAILY_LIMIT_IP: '2', TRUST_PROXY: '127.0.0.1' })
  t.teardown(() => ac.close())
  const answers = []
  for (const [i, value] of ['not-an-ip', 'garbage', '999.1.1.1', 'x, y'].entries()) {
    answers.push((await ac.call('POST', '/auth/sms-code', sms(10 + i), xff(value))).status)
  }
  t.strictSame(answers, [202, 202, 429, 429], 'all four counted against 127.0.0.1')
  t.equal(await ac.app.deps.store.countHits('sms:ip:127.0.0.1'), 2)
  t.equal(await ac.app.deps.store.countHits('sms:ip:not-an-ip'), 0, 'never a key made of the header')
})

t.test('behind a listed proxy, real client addresses get budgets of their own', async (t) => {
  const ac = await startAuthCenter({ SMS_DAILY_LIMIT_IP: '1', TRUST_PROXY: '127.0.0.1' })
  t.teardown(() => ac.close())
  t.equal((await ac.call('POST', '/auth/sms-code', sms(20), xff('198.51.100.1'))).status, 202)
  t.equal((await ac.call('POST', '/auth/sms-code', sms(21), xff('198.51.100.2'))).status, 202)
  t.equal((await ac.call('POST', '/auth/sms-code', sms(22), xff('198.51.100.1'))).status, 429)
  // The client sends its own X-Forwarded-For, the proxy appends what it saw: only the
  // entry our proxy added counts, the made-up one before it is not trusted.
  t.equal((await ac.call('POST', '/auth/sms-code', sms(23), xff('203.0.113.50, 198.51.100.2'))).status, 429)
})

t.test('a hop count trusts that many proxies, and no more', async (t) => {
  const ac = await startAuthCenter({ SMS_DAILY_LIMIT_IP: '1', TRUST_PROXY: '1' })
  t.teardown(() => ac.close())
  t.equal((await ac.call('POST', '/auth/sms-code', sms(30), xff('198.51.100.7'))).status, 202)
  t.equal((await ac.call('POST', '/auth/sms-code', sms(31), xff('198.51.100.8'))).status, 202, 'one hop: the forwarded address is the client')
  t.equal((await ac.call('POST', '/auth/sms-code', sms(32), xff('198.51.100.9, 198.51.100.8'))).status, 429, 'an entry beyond the hop count is not believed')
})

t.test('an IPv6 client is budgeted by its /64', async (t) => {
  const ac = await startAuthCenter({ SMS_DAILY_LIMIT_IP: '1', TRUST_PROXY: '127.0.0.1' })
  t.teardown(() => ac.close())
  t.equal((await ac.call('POST', '/auth/sms-code', sms(40), xff('2001:db8:1:2::1'))).status, 202)
  t.equal((await ac.call('POST', '/auth/sms-code', sms(41), xff('2001:db8:1:2::ffff'))).status, 429, 'same /64')
  t.equal((await ac.call('POST', '/auth/sms-code', sms(42), xff('2001:db8:1:3::1'))).status, 202, 'another /64')
})

t.test('the session records the forwarded client address', async (t) => {
  const ac = await startAuthCenter({ TRUST_PROXY: '127.0.0.1' })
  t.teardown(() => ac.close())
  const login = await ac.call('POST', '/auth/login', { mobile: '+8613800000000', code: '123456' }, xff('203.0.113.9'))
  t.equal(login.status, 200)
  const list = await ac.call('GET', '/auth/sessions', undefined, { authorization: `Bearer ${login.body.access_token}` })
  t.equal(list.body.sessions[0].ip, '203.0.113.9')
})

t.test('address helpers', async (t) => {
  t.equal(normalizeIp('::ffff:192.0.2.1'), '192.0.2.1')
  t.equal(normalizeIp('2001:DB8::1'), '2001:db8::1')
  t.equal(ipBudgetKey('192.0.2.1'), '192.0.2.1')
  t.equal(ipBudgetKey('2001:db8::1'), '2001:db8:0:0::/64')
  t.equal(ipBudgetKey('2001:0db8:0001:0002:0003:0004:0005:0006'), '2001:db8:1:2::/64')
  t.equal(ipBudgetKey('::1'), '0:0:0:0::/64')
})
