import t from 'tap'
import { createHash, randomBytes } from 'node:crypto'
import { Browser, OPS_SECRET, PARTNER_REDIRECT, PARTNER_SECRET, SPA_REDIRECT, loginAndConsent, startOAuthCenter } from './helpers.js'

const basic = (id: string, secret: string): string => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`
const pkce = (): { verifier: string, challenge: string } => {
  const verifier = randomBytes(32).toString('base64url')
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') }
}

async function token (issuer: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<{ status: number, body: any, headers: Headers }> {
  const res = await fetch(`${issuer}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(form) })
  return { status: res.status, body: await res.json(), headers: res.headers }
}

t.test('refusals', async (t) => {
  const ac = await startOAuthCenter()
  t.teardown(() => ac.close())
  const authorize = (params: Record<string, string>): string => `${ac.issuer}/oauth/authorize?${new URLSearchParams(params)}`
  const base = { response_type: 'code', client_id: 'partner', scope: 'openid', state: 'st', code_challenge: pkce().challenge, code_challenge_method: 'S256' }

  t.test('redirect URI variants are an error page, never a redirect', async (t) => {
    const variants = [
      `${PARTNER_REDIRECT}/`, 'https://PARTNER.example/cb', 'https://partner.example/CB', `${PARTNER_REDIRECT}?x=1`,
      'https://partner.example/cb/../cb', 'https://partner.example/x/../cb', 'https://evil.example@partner.example/cb',
      'https://partner.example@evil.example/cb', 'https://partner.example%2Fcb', 'https://partner.example/cb%2F', 'https://partner.example/%63b',
      'https://partner.example:443/cb', 'https://partner.example/cb#x', 'https://partner.example.evil.example/cb', ''
    ]
    for (const redirect of variants) {
      const res = await fetch(authorize({ ...base, redirect_uri: redirect }), { redirect: 'manual' })
      t.equal(res.status, 400, redirect)
      t.equal(res.headers.get('location'), null, `${redirect}: not redirected`)
      t.match(await res.text(), /Invalid redirect/)
    }
    const unknown = await fetch(authorize({ ...base, client_id: 'nobody', redirect_uri: PARTNER_REDIRECT }), { redirect: 'manual' })
    t.equal(unknown.status, 400)
    t.match(await unknown.text(), /Unknown application/)
  })

  t.test('PKCE missing or plain, response_type other than code, scopes beyond the client\'s: back to the client with an error', async (t) => {
    const cases: Array<[Record<string, string | undefined>, string]> = [
      [{ code_challenge: undefined }, 'invalid_request'],
      [{ code_challenge_method: undefined }, 'invalid_request'],
      [{ code_challenge_method: 'plain' }, 'invalid_request'],
      [{ response_type: 'token' }, 'unsupported_response_type'],
      [{ scope: 'openid admin' }, 'invalid_scope'],
      [{ scope: 'openid reports' }, 'invalid_scope']
    ]
    for (const [change, error] of cases) {
      const params = Object.fromEntries(Object.entries({ ...base, redirect_uri: PARTNER_REDIRECT, ...change }).filter(([, v]) => v !== undefined)) as Record<string, string>
      const res = await fetch(authorize(params), { redirect: 'manual' })
      t.equal(res.status, 303, JSON.stringify(change))
      const loc = new URL(res.headers.get('location')!)
      t.equal(`${loc.origin}${loc.pathname}`, PARTNER_REDIRECT)
      t.equal(loc.searchParams.get('error'), error, JSON.stringify(change))
      t.equal(loc.searchParams.get('state'), 'st')
    }
  })

  t.test('a wrong verifier, then a replayed code that revokes what it issued', async (t) => {
    const browser = new Browser()
    const p1 = pkce()
    const back = await loginAndConsent(browser, authorize({ ...base, redirect_uri: PARTNER_REDIRECT, code_challenge: p1.challenge }), ac.issuer)
    const wrong = await token(ac.issuer, { grant_type: 'authorization_code', code: back.searchParams.get('code')!, redirect_uri: PARTNER_REDIRECT, code_verifier: pkce().verifier }, { authorization: basic('partner', PARTNER_SECRET) })
    t.equal(wrong.status, 400)
    t.equal(wrong.body.error, 'invalid_grant')

    const p2 = pkce()
    const back2 = await loginAndConsent(browser, authorize({ ...base, redirect_uri: PARTNER_REDIRECT, code_challenge: p2.challenge }), ac.issuer)
    const form = { grant_type: 'authorization_code', code: back2.searchParams.get('code')!, redirect_uri: PARTNER_REDIRECT, code_verifier: p2.verifier }
    const first = await token(ac.issuer, form, { authorization: basic('partner', PARTNER_SECRET) })
    t.equal(first.status, 200)
    t.equal(first.headers.get('cache-control'), 'no-store')
    const replay = await token(ac.issuer, form, { authorization: basic('partner', PARTNER_SECRET) })
    t.equal(replay.status, 400)
    t.equal(replay.body.error, 'invalid_grant')
    const refresh = await token(ac.issuer, { grant_type: 'refresh_token', refresh_token: first.body.refresh_token }, { authorization: basic('partner', PARTNER_SECRET) })
    t.equal(refresh.body.error, 'invalid_grant', 'the replay revoked the grant the code made')
  })

  t.test('a refresh may ask for part of the grant (RFC 6749 §6): only that access token is narrowed', async (t) => {
    const browser = new Browser()
    const p = pkce()
    const back = await loginAndConsent(browser, authorize({ ...base, scope: 'openid profile:read profile:write', redirect_uri: PARTNER_REDIRECT, code_challenge: p.challenge }), ac.issuer)
    const grant = await token(ac.issuer, { grant_type: 'authorization_code', code: back.searchParams.get('code')!, redirect_uri: PARTNER_REDIRECT, code_verifier: p.verifier }, { authorization: basic('partner', PARTNER_SECRET) })
    t.equal(grant.status, 200)
    t.equal(grant.body.scope, 'openid profile:read profile:write')
    const claims = (jwt: string): { scope?: string } => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8'))
    const auth = { authorization: basic('partner', PARTNER_SECRET) }

    const beyond = await token(ac.issuer, { grant_type: 'refresh_token', refresh_token: grant.body.refresh_token, scope: 'profile:read phone' }, auth)
    t.equal(beyond.status, 400)
    t.equal(beyond.body.error, 'invalid_scope', 'a scope the grant lacks (though the client may have it)')

    const narrow = await token(ac.issuer, { grant_type: 'refresh_token', refresh_token: grant.body.refresh_token, scope: 'profile:write  profile:read profile:read' }, auth)
    t.equal(narrow.status, 200, 'the invalid_scope answer did not burn the token')
    t.equal(narrow.body.scope, 'profile:read profile:write', 'in the grant\'s order, once each')
    t.equal(claims(narrow.body.access_token).scope, 'profile:read profile:write')

    const one = await token(ac.issuer, { grant_type: 'refresh_token', refresh_token: narrow.body.refresh_token, scope: 'profile:read' }, auth)
    t.equal(one.body.scope, 'profile:read')
    t.equal(claims(one.body.access_token).scope, 'profile:read')

    const whole = await token(ac.issuer, { grant_type: 'refresh_token', refresh_token: one.body.refresh_token }, auth)
    t.equal(whole.status, 200)
    t.equal(whole.body.scope, 'openid profile:read profile:write', 'without scope: the whole grant again (narrowing never shrinks the grant)')
    t.equal(claims(whole.body.access_token).scope, 'openid profile:read profile:write')
  })

  t.test('third-party grants stay out of the first-party endpoints', async (t) => {
    const browser = new Browser()
    const p = pkce()
    const back = await loginAndConsent(browser, authorize({ ...base, redirect_uri: PARTNER_REDIRECT, code_challenge: p.challenge }), ac.issuer)
    const grant = await token(ac.issuer, { grant_type: 'authorization_code', code: back.searchParams.get('code')!, redirect_uri: PARTNER_REDIRECT, code_verifier: p.verifier }, { authorization: basic('partner', PARTNER_SECRET) })
    t.equal(grant.status, 200)
    const json = { 'content-type': 'application/json' }

    const rotate = await fetch(`${ac.issuer}/auth/refresh`, { method: 'POST', headers: json, body: JSON.stringify({ refresh_token: grant.body.refresh_token }) })
    t.equal(rotate.status, 401, 'an OAuth refresh token does not rotate at /auth/refresh (no client authentication there)')
    t.equal((await rotate.json() as { code: string }).code, 'REFRESH_TOKEN_INVALID')
    const still = await token(ac.issuer, { grant_type: 'refresh_token', refresh_token: grant.body.refresh_token }, { authorization: basic('partner', PARTNER_SECRET) })
    t.equal(still.status, 200, 'and it was not burnt: the client can still use it')

    const sessions = await fetch(`${ac.issuer}/auth/sessions`, { headers: { authorization: `Bearer ${still.body.access_token}` } })
    t.equal(sessions.status, 403, 'a third-party access token cannot list or end the user\'s sessions')
    t.equal((await sessions.json() as { code: string }).code, 'FIRST_PARTY_ONLY')

    const login = await fetch(`${ac.issuer}/auth/login`, { method: 'POST', headers: json, body: JSON.stringify({ mobile: '13800000000', code: '123456', client_id: 'partner' }) })
    t.equal(login.status, 400, 'the first-party login refuses an OAuth client_id')
    t.equal((await login.json() as { code: string }).code, 'UNKNOWN_CLIENT')
  })

  t.test('a wrong client secret is 401 invalid_client with WWW-Authenticate: Basic', async (t) => {
    const res = await token(ac.issuer, { grant_type: 'client_credentials' }, { authorization: basic('partner', 'wrong') })
    t.equal(res.status, 401)
    t.same(res.body, { error: 'invalid_client', error_description: 'client authentication failed' })
    t.match(res.headers.get('www-authenticate'), /^Basic/)
    const post = await token(ac.issuer, { grant_type: 'client_credentials', client_id: 'ops', client_secret: `${OPS_SECRET}x` })
    t.equal(post.status, 401)
    const unknown = await token(ac.issuer, { grant_type: 'client_credentials', client_id: 'ghost', client_secret: 'x' })
    t.same(unknown.body, post.body, 'an unknown client looks the same')
  })

  t.test('a public client cannot use client credentials; scopes beyond the client\'s are invalid_scope', async (t) => {
    const pub = await token(ac.issuer, { grant_type: 'client_credentials', client_id: 'spa' })
    t.equal(pub.status, 400)
    t.equal(pub.body.error, 'unauthorized_client')
    const beyond = await token(ac.issuer, { grant_type: 'client_credentials', scope: 'admin' }, { authorization: basic('partner', PARTNER_SECRET) })
    t.equal(beyond.body.error, 'invalid_scope')
    const grant = await token(ac.issuer, { grant_type: 'password', username: 'x', password: 'y' })
    t.equal(grant.body.error, 'unsupported_grant_type')
    const twice = await fetch(`${ac.issuer}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials&grant_type=client_credentials' })
    t.equal((await twice.json() as { error: string }).error, 'invalid_request', 'a repeated parameter')
    t.equal(SPA_REDIRECT.startsWith('http://localhost'), true)
  })

  t.test('forms without the CSRF token bound to the cookie are refused', async (t) => {
    const browser = new Browser()
    const page = await browser.get(authorize({ ...base, redirect_uri: PARTNER_REDIRECT }))
    t.equal(page.status, 200)
    t.match(page.headers.get('set-cookie'), /^__Host-ac_session=[^;]+; Path=\/; Secure; HttpOnly; SameSite=Lax/)
    t.match(page.headers.get('content-security-policy'), /frame-ancestors 'none'/)
    const html = await page.text()
    const request = /name="request" value="([^"]*)"/.exec(html)![1]!.replace(/&amp;/g, '&')
    const forged = await browser.post(`${ac.issuer}/oauth/authorize/login`, { request, csrf: 'forged', mobile: '+8613800000000', code: '123456' })
    t.equal(forged.status, 403)
  })
})
