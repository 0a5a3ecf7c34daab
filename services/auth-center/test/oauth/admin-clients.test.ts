import t from 'tap'
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto'
import { eachDriver } from '../helpers/drivers.js'
import { TEST_MOBILE, TEST_OTP } from '../helpers/auth-center.js'
import { Browser, OPS_SECRET, PARTNER_SECRET, loginAndConsent, startOAuthCenter } from './helpers.js'

const ADMIN_TOKEN = 'admin-secret-0123456789abcdef'
const DYN_REDIRECT = 'https://dyn.example/cb'

const basic = (id: string, secret: string): string => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`
const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` })
const sha256hex = (s: string): string => createHash('sha256').update(s).digest('hex')

interface Reply { status: number, body: any, text: string, headers: Headers }

async function call (issuer: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const res = await fetch(`${issuer}${path}`, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {})
  })
  const text = await res.text()
  return { status: res.status, body: text === '' ? undefined : JSON.parse(text), text, headers: res.headers }
}

async function token (issuer: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<Reply> {
  const res = await fetch(`${issuer}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(form) })
  const text = await res.text()
  return { status: res.status, body: JSON.parse(text), text, headers: res.headers }
}

/** Authorization code + PKCE through the pages for a client; the token reply. */
async function codeFlow (issuer: string, clientId: string, secret: string, redirectUri: string, scope: string): Promise<Reply> {
  const verifier = randomBytes(32).toString('base64url')
  const params = new URLSearchParams({
    response_type: 'code', client_id: clientId, redirect_uri: redirectUri, scope, state: 's1',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256'
  })
  const back = await loginAndConsent(new Browser(), `${issuer}/oauth/authorize?${params}`, issuer)
  const code = back.searchParams.get('code')
  if (code === null) throw new Error(`no code: ${back.href}`)
  return await token(issuer, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier }, { authorization: basic(clientId, secret) })
}

eachDriver(t, async (t, env) => {
  const ac = await startOAuthCenter({ ...env, AUTH_ADMIN_TOKEN: ADMIN_TOKEN })
  t.teardown(() => ac.close())
  const admin = bearer(ADMIN_TOKEN)

  t.test('POST /admin/clients registers a confidential client; its secret works once shown, only its hash is kept', async (t) => {
    const r = await call(ac.issuer, 'POST', '/admin/clients', {
      client_id: 'dyn', name: 'Dynamic', type: 'confidential',
      redirect_uris: [DYN_REDIRECT], grant_types: ['authorization_code', 'refresh_token', 'client_credentials'], scope: 'openid reports'
    }, admin)
    t.equal(r.status, 201, r.text)
    t.equal(r.headers.get('cache-control'), 'no-store')
    const secret: string = r.body.client_secret
    t.match(secret, /^[A-Za-z0-9_-]{43}$/, '256-bit secret, base64url')
    t.match(r.body, { client_id: 'dyn', name: 'Dynamic', type: 'confidential', source: 'api', token_endpoint_auth_method: 'client_secret_basic', redirect_uris: [DYN_REDIRECT], scope: 'openid reports' })
    t.notOk('client_secret_sha256' in r.body)

    const cc = await token(ac.issuer, { grant_type: 'client_credentials', scope: 'reports' }, { authorization: basic('dyn', secret) })
    t.equal(cc.status, 200, cc.text)
    t.equal(cc.body.scope, 'reports')
    const post = await token(ac.issuer, { grant_type: 'client_credentials', client_id: 'dyn', client_secret: secret })
    t.equal(post.status, 200, 'client_secret_post too')
    t.equal((await token(ac.issuer, { grant_type: 'client_credentials' }, { authorization: basic('dyn', `${secret}x`) })).status, 401, 'wrong secret')

    // Lists and reads show no secret and no hash, for file and API clients alike.
    const list = await call(ac.issuer, 'GET', '/admin/clients', undefined, admin)
    t.equal(list.status, 200)
    const ids = list.body.clients.map((c: any) => `${c.client_id}:${c.source}`)
    t.ok(ids.includes('dyn:api') && ids.includes('partner:file') && ids.includes('ops:file'), ids.join(' '))
    t.notOk(ids.some((id: string) => id.startsWith('default:')), 'first-party clients are not listed')
    for (const text of [list.text, (await call(ac.issuer, 'GET', '/admin/clients/dyn', undefined, admin)).text, (await call(ac.issuer, 'GET', '/admin/clients/partner', undefined, admin)).text]) {
      t.notMatch(text, secret)
      t.notMatch(text, sha256hex(secret))
      t.notMatch(text, sha256hex(PARTNER_SECRET))
      t.notMatch(text, /"client_secret"|sha256/)
    }
    t.match((await call(ac.issuer, 'GET', '/admin/clients/dyn', undefined, admin)).body, { client_id: 'dyn', source: 'api', grant_types: ['authorization_code', 'refresh_token', 'client_credentials'] })
  })

  t.test('a generated client_id, public and private_key_jwt clients: no secret', async (t) => {
    const pub = await call(ac.issuer, 'POST', '/admin/clients', { type: 'public', redirect_uris: ['http://localhost:9999/cb'] }, admin)
    t.equal(pub.status, 201, pub.text)
    t.match(pub.body.client_id, /^c-[A-Za-z0-9_-]{16}$/)
    t.notOk('client_secret' in pub.body)
    t.equal(pub.body.token_endpoint_auth_method, 'none')
    const jwk = { ...generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }), kid: 'k1' }
    const pk = await call(ac.issuer, 'POST', '/admin/clients', { client_id: 'dyn-pk', type: 'confidential', token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [jwk] }, grant_types: ['client_credentials'] }, admin)
    t.equal(pk.status, 201, pk.text)
    t.notOk('client_secret' in pk.body)
    t.equal(pk.body.token_endpoint_auth_method, 'private_key_jwt')
  })

  t.test('refusals: taken ids, file clients, bad registrations', async (t) => {
    const again = await call(ac.issuer, 'POST', '/admin/clients', { client_id: 'dyn', type: 'confidential', grant_types: ['client_credentials'] }, admin)
    t.match(again, { status: 409, body: { statusCode: 409, code: 'CLIENT_EXISTS', error: 'Conflict' } })
    t.match(await call(ac.issuer, 'POST', '/admin/clients', { client_id: 'partner', type: 'confidential', grant_types: ['client_credentials'] }, admin), { status: 409, body: { code: 'CLIENT_EXISTS' } })
    t.match(await call(ac.issuer, 'POST', '/admin/clients', { client_id: 'default', type: 'public', redirect_uris: ['http://localhost/cb'] }, admin), { status: 409, body: { code: 'CLIENT_EXISTS' } })
    t.match(await call(ac.issuer, 'DELETE', '/admin/clients/partner', undefined, admin), { status: 409, body: { code: 'CLIENT_READ_ONLY' } })
    t.equal((await token(ac.issuer, { grant_type: 'client_credentials' }, { authorization: basic('partner', PARTNER_SECRET) })).status, 200, 'partner untouched')
    t.match(await call(ac.issuer, 'GET', '/admin/clients/nobody', undefined, admin), { status: 404, body: { code: 'CLIENT_NOT_FOUND' } })
    t.match(await call(ac.issuer, 'GET', '/admin/clients/default', undefined, admin), { status: 404, body: { code: 'CLIENT_NOT_FOUND' } })
    t.match(await call(ac.issuer, 'DELETE', '/admin/clients/nobody', undefined, admin), { status: 404, body: { code: 'CLIENT_NOT_FOUND' } })
    const bad: Array<[unknown, string]> = [
      [{ type: 'confidential', client_secret_sha256: sha256hex('x'), grant_types: ['client_credentials'] }, 'FST_ERR_VALIDATION'],
      [{ type: 'other' }, 'FST_ERR_VALIDATION'],
      [{ client_id: 'bad id', type: 'public', redirect_uris: ['http://localhost/cb'] }, 'FST_ERR_VALIDATION'],
      [{ type: 'confidential', redirect_uris: ['http://evil.example/cb'] }, 'INVALID_CLIENT_METADATA'],
      [{ type: 'confidential', redirect_uris: ['https://x.example/cb#f'] }, 'INVALID_CLIENT_METADATA'],
      [{ type: 'public', grant_types: ['client_credentials'] }, 'INVALID_CLIENT_METADATA'],
      [{ type: 'confidential', grant_types: ['authorization_code'] }, 'INVALID_CLIENT_METADATA'],
      [{ type: 'confidential', token_endpoint_auth_method: 'private_key_jwt', grant_types: ['client_credentials'] }, 'INVALID_CLIENT_METADATA'],
      // The identity point as an Ed25519 key: Node 20 and 22 verify a forged assertion by it for any message.
      [{ type: 'confidential', token_endpoint_auth_method: 'private_key_jwt', grant_types: ['client_credentials'], jwks: { keys: [{ kty: 'OKP', crv: 'Ed25519', x: Buffer.from('01'.padEnd(64, '0'), 'hex').toString('base64url') }] } }, 'INVALID_CLIENT_METADATA'],
      [{ type: 'confidential', token_endpoint_auth_method: 'private_key_jwt', grant_types: ['client_credentials'], jwks: { keys: [{ kty: 'OKP', crv: 'Ed25519', x: 'AAAA' }] } }, 'INVALID_CLIENT_METADATA'],
      [{ type: 'confidential', grant_types: ['client_credentials'], policy: { sliding: { idle: '5m', max: '1h' } } }, 'INVALID_CLIENT_METADATA'],
      [{ type: 'confidential', grant_types: ['client_credentials'], policy: { accessTtl: '1d' } }, 'INVALID_CLIENT_METADATA'],
      [{ type: 'confidential', grant_types: ['client_credentials'], policy: { refresh: false } }, 'INVALID_CLIENT_METADATA']
    ]
    for (const [body, code] of bad) {
      const r = await call(ac.issuer, 'POST', '/admin/clients', body, admin)
      t.match(r, { status: 400, body: { statusCode: 400, code, error: 'Bad Request' } }, `${JSON.stringify(body)}: ${r.text}`)
    }
  })

  t.test('DELETE /admin/clients/:id: its client credentials fail, its refresh and access tokens are revoked', async (t) => {
    const reg = await call(ac.issuer, 'POST', '/admin/clients', {
      client_id: 'doomed', type: 'confidential', redirect_uris: [DYN_REDIRECT], grant_types: ['authorization_code', 'refresh_token', 'client_credentials'], scope: 'openid reports'
    }, admin)
    t.equal(reg.status, 201, reg.text)
    const secret: string = reg.body.client_secret
    const grant = await codeFlow(ac.issuer, 'doomed', secret, DYN_REDIRECT, 'openid')
    t.equal(grant.status, 200, grant.text)
    t.ok(grant.body.refresh_token)
    const rotated = await token(ac.issuer, { grant_type: 'refresh_token', refresh_token: grant.body.refresh_token }, { authorization: basic('doomed', secret) })
    t.equal(rotated.status, 200, 'refresh works before the delete')
    const cc = await token(ac.issuer, { grant_type: 'client_credentials' }, { authorization: basic('doomed', secret) })
    t.equal(cc.status, 200)
    t.equal((await call(ac.issuer, 'GET', '/oauth/userinfo', undefined, bearer(rotated.body.access_token))).status, 200)

    const del = await call(ac.issuer, 'DELETE', '/admin/clients/doomed', undefined, admin)
    t.equal(del.status, 200, del.text)
    // The one stored grant (the code flow's session); a client-credentials token stores none, its end is the client's u: entry.
    t.equal(del.body.revoked, 1, 'the authorization grant')
    const deny = await ac.app.deps.store.denylist()
    t.equal(deny.entries.filter((e) => e.startsWith('u:client:doomed=')).length, 1, 'one entry ends every client-credentials token of the client')

    t.match(await token(ac.issuer, { grant_type: 'client_credentials' }, { authorization: basic('doomed', secret) }), { status: 401, body: { error: 'invalid_client' } })
    t.match(await token(ac.issuer, { grant_type: 'refresh_token', refresh_token: rotated.body.refresh_token }, { authorization: basic('doomed', secret) }), { status: 401, body: { error: 'invalid_client' } })
    // The grant itself is revoked: not even the first-party refresh endpoint takes its refresh token.
    const firstParty = await call(ac.issuer, 'POST', '/auth/refresh', { refresh_token: rotated.body.refresh_token })
    t.equal(firstParty.status, 401, firstParty.text)
    t.equal((await call(ac.issuer, 'GET', '/oauth/userinfo', undefined, bearer(rotated.body.access_token))).status, 401, 'its access token is dead')
    t.match(await call(ac.issuer, 'GET', '/admin/clients/doomed', undefined, admin), { status: 404, body: { code: 'CLIENT_NOT_FOUND' } })
    t.notOk((await call(ac.issuer, 'GET', '/admin/clients', undefined, admin)).body.clients.some((c: any) => c.client_id === 'doomed'))
    const browserPage = await fetch(`${ac.issuer}/oauth/authorize?${new URLSearchParams({ response_type: 'code', client_id: 'doomed', redirect_uri: DYN_REDIRECT, code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' })}`, { redirect: 'manual' })
    t.equal(browserPage.status, 400, 'authorize: unknown application')
    t.match(await call(ac.issuer, 'DELETE', '/admin/clients/doomed', undefined, admin), { status: 404, body: { code: 'CLIENT_NOT_FOUND' } })
  })

  t.test('an admin-scope client-credentials token opens the admin API; others do not', async (t) => {
    const opsToken = await token(ac.issuer, { grant_type: 'client_credentials', scope: 'admin' }, { authorization: basic('ops', OPS_SECRET) })
    t.equal(opsToken.status, 200, opsToken.text)
    const ops = bearer(opsToken.body.access_token)
    t.equal((await call(ac.issuer, 'GET', '/admin/clients', undefined, ops)).status, 200)
    const made = await call(ac.issuer, 'POST', '/admin/clients', { client_id: 'robot', type: 'confidential', grant_types: ['client_credentials'], scope: 'reports' }, ops)
    t.equal(made.status, 201, made.text)

    // Valid client-credentials tokens without `admin`: 403 ADMIN_FORBIDDEN.
    const robot = await token(ac.issuer, { grant_type: 'client_credentials' }, { authorization: basic('robot', made.body.client_secret) })
    const partner = await token(ac.issuer, { grant_type: 'client_credentials', scope: 'profile:read' }, { authorization: basic('partner', PARTNER_SECRET) })
    for (const tk of [robot.body.access_token, partner.body.access_token]) {
      const r = await call(ac.issuer, 'GET', '/admin/clients', undefined, bearer(tk))
      t.match(r, { status: 403, body: { statusCode: 403, code: 'ADMIN_FORBIDDEN', error: 'Forbidden' } })
      t.match(r.headers.get('www-authenticate'), /error="insufficient_scope"/)
    }

    // A user's tokens, first-party or third-party: 401.
    const login = await call(ac.issuer, 'POST', '/auth/login', { mobile: TEST_MOBILE, code: TEST_OTP })
    t.equal(login.status, 200, login.text)
    const userGrant = await codeFlow(ac.issuer, 'partner', PARTNER_SECRET, 'https://partner.example/cb', 'openid profile:read')
    t.equal(userGrant.status, 200, userGrant.text)
    for (const tk of [login.body.access_token, userGrant.body.access_token, `${opsToken.body.access_token}x`, 'not-a-jwt']) {
      const r = await call(ac.issuer, 'GET', '/admin/clients', undefined, bearer(tk))
      t.match(r, { status: 401, body: { code: 'ADMIN_UNAUTHORIZED' } })
      t.match(r.headers.get('www-authenticate'), /^Bearer realm="admin"/)
    }
    t.match(await call(ac.issuer, 'GET', '/admin/clients'), { status: 401, body: { code: 'ADMIN_UNAUTHORIZED' } })

    // The older admin routes take it too.
    t.equal((await call(ac.issuer, 'GET', `/admin/users/${login.body.user.id}/sessions`, undefined, ops)).status, 200)
    // AUTH_ADMIN_TOKEN still works.
    t.equal((await call(ac.issuer, 'GET', `/admin/users/${login.body.user.id}/sessions`, undefined, admin)).status, 200)

    // A revoked admin token is refused at once.
    const rev = await fetch(`${ac.issuer}/oauth/revoke`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('ops', OPS_SECRET) }, body: new URLSearchParams({ token: opsToken.body.access_token }) })
    t.equal(rev.status, 200)
    t.match(await call(ac.issuer, 'GET', '/admin/clients', undefined, ops), { status: 401, body: { code: 'ADMIN_UNAUTHORIZED' } })
    t.equal((await call(ac.issuer, 'DELETE', '/admin/clients/robot', undefined, admin)).status, 200)
  })

  if (env.REDIS_URL !== undefined) {
    t.test('redis: a client registered on one replica works on another, and survives restarts', async (t) => {
      const reg = await call(ac.issuer, 'POST', '/admin/clients', { client_id: 'shared', type: 'confidential', grant_types: ['client_credentials'], scope: 'reports' }, admin)
      t.equal(reg.status, 201, reg.text)
      const other = await startOAuthCenter({ ...env })
      t.teardown(() => other.close())
      const cc = await token(other.issuer, { grant_type: 'client_credentials' }, { authorization: basic('shared', reg.body.client_secret) })
      t.equal(cc.status, 200, cc.text)
      t.ok((await call(other.issuer, 'GET', '/.well-known/openid-configuration')).body.scopes_supported.includes('reports'), 'metadata lists its scope')
      t.equal((await call(ac.issuer, 'DELETE', '/admin/clients/shared', undefined, admin)).status, 200)
      t.equal((await token(other.issuer, { grant_type: 'client_credentials' }, { authorization: basic('shared', reg.body.client_secret) })).status, 401, 'deleted on one replica: gone on the other')
    })
  }
})

t.test('without AUTH_ADMIN_TOKEN, an admin client in the clients file turns the admin API on for admin-scope tokens only', async (t) => {
  const ac = await startOAuthCenter()
  t.teardown(() => ac.close())
  t.match(await call(ac.issuer, 'GET', '/admin/clients', undefined, bearer(ADMIN_TOKEN)), { status: 401, body: { code: 'ADMIN_UNAUTHORIZED' } })
  const ops = await token(ac.issuer, { grant_type: 'client_credentials', scope: 'admin' }, { authorization: basic('ops', OPS_SECRET) })
  t.equal((await call(ac.issuer, 'GET', '/admin/clients', undefined, bearer(ops.body.access_token))).status, 200)
})
