import t from 'tap'
import { randomBytes } from 'node:crypto'
import { formatRefreshToken, parseRefreshToken } from '../../src/tokens/refresh-token.js'
import { startAuthCenter, TEST_MOBILE, TEST_OTP } from '../helpers/auth-center.js'

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
/** The same bytes in another spelling: the last character with its unused low bits set. */
function aliasLast (s: string, spareBits: number): string {
  const i = B64URL.indexOf(s[s.length - 1]!)
  return s.slice(0, -1) + B64URL[i | ((1 << spareBits) - 1)]!
}

t.test('refresh tokens have exactly one spelling (issue #12: sid.000.mac was taken for sid.0.mac)', async (t) => {
  t.test('the parser refuses leading zeros and non-canonical base64url', async (t) => {
    const key = randomBytes(32)
    const sid = randomBytes(16).toString('base64url')
    const token = formatRefreshToken(key, sid, 0, 'nonce')
    const [, , mac] = token.split('.')
    t.ok(parseRefreshToken(token), 'the minted token parses')
    t.ok(parseRefreshToken(formatRefreshToken(key, sid, 120, 'nonce')), 'a generation above 9 parses')
    t.equal(parseRefreshToken(`${sid}.00.${mac!}`), undefined, 'gen 00')
    t.equal(parseRefreshToken(`${sid}.000.${mac!}`), undefined, 'gen 000')
    t.equal(parseRefreshToken(`${sid}.012.${mac!}`), undefined, 'gen 012')
    t.equal(parseRefreshToken(`${sid}.0.${aliasLast(mac!, 2)}`), undefined, 'MAC with its 2 spare bits set')
    t.equal(parseRefreshToken(`${aliasLast(sid, 4)}.0.${mac!}`), undefined, 'session id with its 4 spare bits set')
  })

  t.test('over HTTP: an aliased spelling is REFRESH_TOKEN_INVALID and does not rotate the session', async (t) => {
    const ac = await startAuthCenter()
    t.teardown(() => ac.close())
    const login = (await ac.call('POST', '/auth/login', { mobile: TEST_MOBILE, code: TEST_OTP })).body
    const [sid, gen, mac] = (login.refresh_token as string).split('.')
    t.equal(gen, '0')
    for (const alias of [`${sid!}.00.${mac!}`, `${sid!}.000.${mac!}`, `${sid!}.${gen!}.${aliasLast(mac!, 2)}`]) {
      const r = await ac.call('POST', '/auth/refresh', { refresh_token: alias })
      t.equal(r.status, 401, alias)
      t.equal(r.body.code, 'REFRESH_TOKEN_INVALID', alias)
    }
    const real = await ac.call('POST', '/auth/refresh', { refresh_token: login.refresh_token })
    t.equal(real.status, 200, 'the canonical token still rotates: no alias was taken as a use')
  })
})
