import t from 'tap'
import { eachDriver } from '../helpers/drivers.js'
import { startAuthCenter, TEST_MOBILE, TEST_OTP } from '../helpers/auth-center.js'

const ADMIN_TOKEN = 'admin-secret-0123456789abcdef'
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` }

t.test('without AUTH_ADMIN_TOKEN the admin API is off: every admin route is 404', async (t) => {
  const ac = await startAuthCenter()
  t.teardown(() => ac.close())
  const user = (await ac.call('POST', '/auth/login', { mobile: TEST_MOBILE, code: TEST_OTP })).body.user
  for (const [method, path] of [
    ['POST', `/admin/users/${user.id}/logout`], ['DELETE', '/admin/sessions/abc'], ['GET', `/admin/users/${user.id}/sessions`]
  ] as const) {
    t.equal((await ac.call(method, path, undefined, admin)).status, 404, `${method} ${path}`)
  }
})

eachDriver(t, async (t, env) => {
  const ac = await startAuthCenter({ ...env, AUTH_ADMIN_TOKEN: ADMIN_TOKEN })
  t.teardown(() => ac.close())
  const login = async (): Promise<any> => (await ac.call('POST', '/auth/login', { mobile: TEST_MOBILE, code: TEST_OTP, device: { name: 'd' } })).body
  const first = await login()
  const userId: string = first.user.id

  t.test('refuses a missing or wrong credential with 401 ADMIN_UNAUTHORIZED and WWW-Authenticate: Bearer', async (t) => {
    const wrong: Array<Record<string, string>> = [
      {},
      { authorization: 'Bearer ' },
      { authorization: 'Bearer wrong' },
      { authorization: `Bearer ${ADMIN_TOKEN}x` },
      { authorization: `Bearer ${ADMIN_TOKEN.slice(0, -1)}` },
      { authorization: `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}` },
      { authorization: `Bearer ${first.access_token}` }
    ]
    for (const headers of wrong) {
      for (const [method, path] of [
        ['POST', `/admin/users/${userId}/logout`], ['DELETE', `/admin/sessions/${first.session_id}`], ['GET', `/admin/users/${userId}/sessions`]
      ] as const) {
        const r = await ac.call(method, path, undefined, headers)
        t.equal(r.status, 401, `${method} ${path} with ${JSON.stringify(headers).slice(0, 40)}`)
        t.equal(r.body.code, 'ADMIN_UNAUTHORIZED')
        t.match(r.headers.get('www-authenticate'), /^Bearer /)
      }
    }
    t.equal((await ac.call('POST', '/auth/refresh', { refresh_token: first.refresh_token })).status, 200, 'nothing was revoked')
  })

  t.test('GET /admin/users/:id/sessions lists the user\'s live sessions', async (t) => {
    const r = await ac.call('GET', `/admin/users/${userId}/sessions`, undefined, admin)
    t.equal(r.status, 200)
    const s = r.body.sessions.find((x: any) => x.id === first.session_id)
    t.equal(s.user_id, userId)
    t.equal(s.device_name, 'd')
    t.notOk('current' in s)
    t.equal((await ac.call('GET', '/admin/users/no-such-user/sessions', undefined, admin)).body.code, 'USER_NOT_FOUND')
    t.equal((await ac.call('GET', '/admin/users/bad%20id/sessions', undefined, admin)).status, 400, 'params are validated')
  })

  t.test('DELETE /admin/sessions/:id ends one session (204), 404 when unknown', async (t) => {
    const victim = await login()
    t.equal((await ac.call('DELETE', `/admin/sessions/${victim.session_id}`, undefined, admin)).status, 204)
    t.equal((await ac.call('POST', '/auth/refresh', { refresh_token: victim.refresh_token })).body.code, 'SESSION_REVOKED')
    t.equal((await ac.call('POST', '/auth/logout', undefined, { authorization: `Bearer ${victim.access_token}` })).body.code, 'SESSION_REVOKED')
    t.equal((await ac.call('DELETE', `/admin/sessions/${victim.session_id}`, undefined, admin)).status, 204, 'idempotent')
    const { entries } = await ac.app.revocationFeed.load()
    t.ok(entries.some((e) => e.startsWith(`s:${victim.session_id}=`)), 's:<sid> entry written')
    const unknown = await ac.call('DELETE', '/admin/sessions/AAAAAAAAAAAAAAAAAAAAAA', undefined, admin)
    t.equal(unknown.status, 404)
    t.equal(unknown.body.code, 'SESSION_NOT_FOUND')
  })

  t.test('POST /admin/users/:id/logout ends every session with one u: entry without exception', async (t) => {
    const a = await login()
    const b = await login()
    const r = await ac.call('POST', `/admin/users/${userId}/logout`, undefined, admin)
    t.equal(r.status, 200)
    t.ok(r.body.revoked >= 3, `revoked ${r.body.revoked}`)
    for (const s of [first, a, b]) t.equal((await ac.call('POST', '/auth/refresh', { refresh_token: s.refresh_token })).body.code, 'SESSION_REVOKED')
    const { entries } = await ac.app.revocationFeed.load()
    t.ok(entries.some((e) => new RegExp(`^u:${userId}=\\d+:\\d+$`).test(e)), 'u:<userId>=revokedAt:expiresAt')
    t.strictSame((await ac.call('GET', `/admin/users/${userId}/sessions`, undefined, admin)).body.sessions, [])
    t.equal((await ac.call('POST', '/admin/users/nobody/logout', undefined, admin)).body.code, 'USER_NOT_FOUND')
  })
})
