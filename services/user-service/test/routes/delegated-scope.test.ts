import t from 'tap'
import { startService } from '../helper.js'

t.test('third-party (scoped) tokens act only within their scopes; first-party tokens act as the user', async (t) => {
  const svc = await startService(t)
  const call = (token: string, method = 'GET', path = '/user/mine', body?: unknown) => fetch(svc.url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body)
  })

  t.equal((await call(svc.issuer.mint('u1'))).status, 200, 'first-party token reads')
  t.equal((await call(svc.issuer.mint('u1'), 'PUT', '/user/username', { username: 'Ada' })).status, 200, 'first-party token writes')

  const reader = svc.issuer.mint('u1', { scope: 'openid profile:read', client_id: 'partner' })
  t.equal((await call(reader)).status, 200, 'profile:read reads')
  const denied = await call(reader, 'PUT', '/user/username', { username: 'Eve' })
  t.equal(denied.status, 403, 'profile:read cannot write')
  t.equal((await denied.json() as { code: string }).code, 'INSUFFICIENT_SCOPE')
  t.match(denied.headers.get('www-authenticate'), /error="insufficient_scope".*scope="profile:write"/)

  const other = svc.issuer.mint('u1', { scope: 'reports', client_id: 'partner' })
  t.equal((await call(other)).status, 403, 'an unrelated scope cannot read the profile')
  const writer = svc.issuer.mint('u1', { scope: 'profile:read profile:write', client_id: 'partner' })
  t.equal((await call(writer, 'PUT', '/user/username', { username: 'Grace' })).status, 200)
})

t.test('what a token may do comes from what it proves, never from a missing claim', async (t) => {
  const svc = await startService(t)
  const call = (token: string, method = 'GET', path = '/user/mine', body?: unknown) => fetch(svc.url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  const refused = async (token: string, what: string): Promise<void> => {
    for (const [method, path, body] of [['GET', '/user/mine'], ['PUT', '/user/username', { username: 'Mallory' }], ['GET', '/user/access/token']] as const) {
      const res = await call(token, method, path, body)
      t.equal(res.status, 403, `${what}: ${method} ${path}`)
      t.equal((await res.json() as { code: string }).code, 'INSUFFICIENT_SCOPE')
    }
  }
  // Neither ac_kind nor scope: nothing says it may act as the user, so it may not.
  await refused(svc.issuer.mint('u1', { ac_kind: undefined }), 'no ac_kind, no scope')
  await refused(svc.issuer.mint('u1', { ac_kind: 'third-party', scope: '' }), 'third-party with an empty scope')
  await refused(svc.issuer.mint('u1', { ac_kind: 'third-party', scope: undefined }), 'third-party without scope')
  await refused(svc.issuer.mint('client:u1', { ac_kind: 'client', scope: 'profile:read profile:write', client_id: 'u1' }), 'a client\'s own token, all scopes held')
  await refused(svc.issuer.mint('u1', { ac_kind: 'client', scope: 'profile:read profile:write', client_id: 'u1' }), 'a client\'s token whatever its sub')
  const first = await call(svc.issuer.mint('u1', { ac_kind: 'first-party' }), 'PUT', '/user/username', { username: 'Ada' })
  t.equal(first.status, 200, 'the positive marker acts as the user')
})
