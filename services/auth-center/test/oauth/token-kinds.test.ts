import t from 'tap'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, startRedis } from '@authcenter/testkit'
import { build, loadConfig } from '../../src/app.js'
import { CapturingSender, TEST_MOBILE, TEST_OTP } from '../helpers/auth-center.js'
import { eachDriver } from '../helpers/drivers.js'
import { claimsOf } from '../helpers/dpop.js'
import { Browser, PARTNER_REDIRECT, PARTNER_SECRET, clientsFile, loginAndConsent, startOAuthCenter } from './helpers.js'

// What a token proves: first-party or third-party is stated by the token (ac_kind, and an
// OAuth token's scope, even empty), never read from a missing claim; client ids never pass
// for user ids; a grant stays third-party whatever later happens to its client.

const ADMIN_TOKEN = 'admin-secret-0123456789abcdef'
const J = { 'content-type': 'application/json' }
const basic = (id: string, secret: string): string => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`

interface Reply { status: number, body: any }
async function call (url: string, method: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const res = await fetch(url, { method, headers: { ...(body !== undefined ? J : {}), ...headers }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) })
  const text = await res.text()
  return { status: res.status, body: text === '' ? undefined : JSON.parse(text) }
}
async function form (url: string, params: Record<string, string>, headers: Record<string, string> = {}): Promise<Reply> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(params) })
  return { status: res.status, body: await res.json() }
}
/** Authorization code + PKCE through the login and consent pages; the token endpoint's reply. */
async function codeFlow (issuer: string, clientId: string, secret: string, redirectUri: string, scope?: string): Promise<Reply> {
  const verifier = randomBytes(32).toString('base64url')
  const params = new URLSearchParams({
    response_type: 'code', client_id: clientId, redirect_uri: redirectUri, state: 's1',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256',
    ...(scope !== undefined ? { scope } : {})
  })
  const back = await loginAndConsent(new Browser(), `${issuer}/oauth/authorize?${params}`, issuer)
  const code = back.searchParams.get('code')
  if (code === null) throw new Error(`no code: ${back.href}`)
  return await form(`${issuer}/oauth/token`, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier }, { authorization: basic(clientId, secret) })
}

eachDriver(t, async (t, env) => {
  const ac = await startOAuthCenter({ ...env, AUTH_ADMIN_TOKEN: ADMIN_TOKEN })
  t.teardown(() => ac.close())
  const admin = { authorization: `Bearer ${ADMIN_TOKEN}` }

  t.test('first-party tokens carry ac_kind first-party and no scope', async (t) => {
    const login = await call(`${ac.issuer}/auth/login`, 'POST', { mobile: TEST_MOBILE, code: TEST_OTP })
    t.equal(login.status, 200)
    const claims = claimsOf(login.body.access_token)
    t.equal(claims.ac_kind, 'first-party')
    t.notOk('scope' in claims)
  })

  t.test('a client registered without scope (the README example) gets tokens that say third-party, with an empty scope', async (t) => {
    const reg = await call(`${ac.issuer}/admin/clients`, 'POST', { name: 'No scope', type: 'confidential', redirect_uris: ['https://noscope.example/cb'] }, admin)
    t.equal(reg.status, 201)
    const tokens = await codeFlow(ac.issuer, reg.body.client_id, reg.body.client_secret, 'https://noscope.example/cb')
    t.equal(tokens.status, 200, JSON.stringify(tokens.body))
    const claims = claimsOf(tokens.body.access_token)
    t.equal(claims.ac_kind, 'third-party')
    t.equal(claims.scope, '', 'scope is there, and empty')
    const sessions = await call(`${ac.issuer}/auth/sessions`, 'GET', undefined, { authorization: `Bearer ${tokens.body.access_token}` })
    t.equal(sessions.status, 403, 'no first-party endpoint for it')
    t.equal(sessions.body.code, 'FIRST_PARTY_ONLY')
    // Its refresh keeps saying so.
    const refreshed = await form(`${ac.issuer}/oauth/token`, { grant_type: 'refresh_token', refresh_token: tokens.body.refresh_token }, { authorization: basic(reg.body.client_id, reg.body.client_secret) })
    t.equal(refreshed.status, 200)
    t.match(claimsOf(refreshed.body.access_token), { ac_kind: 'third-party', scope: '' })
  })

  t.test('a client registered with a user\'s id changes nothing for that user', async (t) => {
    const login = await call(`${ac.issuer}/auth/login`, 'POST', { mobile: TEST_MOBILE, code: TEST_OTP, device: { name: 'phone' } })
    const userId: string = login.body.user.id
    const before = await call(`${ac.issuer}/admin/users/${userId}/sessions`, 'GET', undefined, admin)
    t.equal(before.status, 200)

    const reg = await call(`${ac.issuer}/admin/clients`, 'POST', { client_id: userId, type: 'confidential', grant_types: ['client_credentials'], scope: 'profile:read profile:write' }, admin)
    t.equal(reg.status, 201, 'the registration itself is allowed')
    const cc = await form(`${ac.issuer}/oauth/token`, { grant_type: 'client_credentials' }, { authorization: basic(userId, reg.body.client_secret) })
    t.equal(cc.status, 200)
    const claims = claimsOf(cc.body.access_token)
    t.equal(claims.sub, `client:${userId}`, 'its subject is in the clients\' namespace')
    t.equal(claims.client_id, userId)
    t.equal(claims.ac_kind, 'client')
    t.equal(claims.scope, 'profile:read profile:write')

    const asUser = await call(`${ac.issuer}/auth/sessions`, 'GET', undefined, { authorization: `Bearer ${cc.body.access_token}` })
    t.equal(asUser.status, 403, 'it cannot list the user\'s sessions')
    t.equal(asUser.body.code, 'FIRST_PARTY_ONLY')
    const info = await call(`${ac.issuer}/oauth/userinfo`, 'GET', undefined, { authorization: `Bearer ${cc.body.access_token}` })
    t.not(info.status, 200, 'nor read the user at userinfo')
    const after = await call(`${ac.issuer}/admin/users/${userId}/sessions`, 'GET', undefined, admin)
    t.equal(after.body.sessions.length, before.body.sessions.length, 'the user\'s sessions are the same ones')
    t.strictSame(after.body.sessions.map((s: any) => s.id), before.body.sessions.map((s: any) => s.id))

    const intro = await form(`${ac.issuer}/oauth/introspect`, { token: cc.body.access_token }, { authorization: basic(userId, reg.body.client_secret) })
    t.equal(intro.body.sub, `client:${userId}`)

    // Deleting the client ends its own tokens, not the user's.
    const deleted = await call(`${ac.issuer}/admin/clients/${userId}`, 'DELETE', undefined, admin)
    t.equal(deleted.status, 200)
    t.equal(deleted.body.revoked, 0, 'no stored grant: client credentials store none (the u:client: entry below ends its token)')
    const refresh = await call(`${ac.issuer}/auth/refresh`, 'POST', { refresh_token: login.body.refresh_token })
    t.equal(refresh.status, 200, 'the user\'s session lives on')
    const deny = await ac.app.deps.store.denylist()
    t.notOk(deny.entries.some((e) => e.startsWith(`u:${userId}=`)), 'no user-level revocation of the user')
    t.ok(deny.entries.some((e) => e.startsWith(`u:client:${userId}=`)), 'the client\'s own subject is revoked')
  })

  t.test('client credentials without scope: ac_kind client and an empty scope', async (t) => {
    const reg = await call(`${ac.issuer}/admin/clients`, 'POST', { type: 'confidential', grant_types: ['client_credentials'] }, admin)
    const cc = await form(`${ac.issuer}/oauth/token`, { grant_type: 'client_credentials' }, { authorization: basic(reg.body.client_id, reg.body.client_secret) })
    t.equal(cc.status, 200)
    t.match(claimsOf(cc.body.access_token), { ac_kind: 'client', scope: '', sub: `client:${reg.body.client_id as string}` })
  })
})

t.test('a grant whose client left the clients file stays third-party: its refresh token never becomes first-party', async (t) => {
  const redis = await startRedis()
  const dir = await mkdtemp(join(tmpdir(), 'ac-kinds-'))
  t.teardown(async () => { await redis.close(); await rm(dir, { recursive: true, force: true }) })
  const port = await freePort()
  const issuer = `http://127.0.0.1:${port}`
  const file = clientsFile() as { clients: Array<{ client_id: string }> }
  async function start (clients: unknown) {
    await writeFile(join(dir, 'clients.json'), JSON.stringify(clients))
    const app = await build(loadConfig({
      AUTH_ISSUER: issuer, AUTH_DATA_DIR: dir, AUTH_CLIENTS_FILE: join(dir, 'clients.json'), REDIS_URL: redis.url,
      SMS_TEST_OTP: `${TEST_MOBILE}:${TEST_OTP}`, LOG_LEVEL: 'silent'
    }), { sms: new CapturingSender(), logger: false })
    await app.listen({ host: '127.0.0.1', port })
    return app
  }

  let app = await start(file)
  const grant = await codeFlow(issuer, 'partner', PARTNER_SECRET, PARTNER_REDIRECT, 'openid profile:read')
  t.equal(grant.status, 200)
  const first = await call(`${issuer}/auth/login`, 'POST', { mobile: TEST_MOBILE, code: TEST_OTP })
  t.equal(first.status, 200)
  await app.close()

  // partner is removed from the clients file.
  app = await start({ clients: file.clients.filter((c) => c.client_id !== 'partner') })
  t.teardown(() => app.close())
  const asFirstParty = await call(`${issuer}/auth/refresh`, 'POST', { refresh_token: grant.body.refresh_token })
  t.equal(asFirstParty.status, 401, 'its refresh token is not a first-party one')
  t.equal(asFirstParty.body.code, 'REFRESH_TOKEN_INVALID')
  const atToken = await form(`${issuer}/oauth/token`, { grant_type: 'refresh_token', refresh_token: grant.body.refresh_token }, { authorization: basic('partner', PARTNER_SECRET) })
  t.equal(atToken.status, 401, 'nor can the gone client refresh it')
  const sessions = await call(`${issuer}/auth/sessions`, 'GET', undefined, { authorization: `Bearer ${grant.body.access_token}` })
  t.equal(sessions.status, 403, 'its access token reaches no first-party endpoint')
  t.equal(sessions.body.code, 'FIRST_PARTY_ONLY')
  const others = await call(`${issuer}/auth/sessions?others=true`, 'DELETE', undefined, { authorization: `Bearer ${grant.body.access_token}` })
  t.equal(others.status, 403, 'and revokes nothing')
  const still = await call(`${issuer}/auth/refresh`, 'POST', { refresh_token: first.body.refresh_token })
  t.equal(still.status, 200, 'the user\'s first-party session is untouched')
  const grantSession = await app.deps.store.getSession(claimsOf(grant.body.access_token).sid)
  t.equal(grantSession?.kind, 'third-party', 'the session says what it is')
})
