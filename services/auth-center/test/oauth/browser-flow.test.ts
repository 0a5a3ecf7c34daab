import t from 'tap'
import { createHash, randomBytes } from 'node:crypto'
import { TEST_MOBILE, TEST_OTP } from '../helpers/auth-center.js'
import { Browser, PARTNER_REDIRECT, PARTNER_SECRET, SPA_REDIRECT, formFields, loginAndConsent, startOAuthCenter } from './helpers.js'

const basic = (id: string, secret: string): string => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`
const challenge = (): { verifier: string, challenge: string } => {
  const verifier = randomBytes(32).toString('base64url')
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') }
}
const payload = (jwt: string): Record<string, any> => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8'))

t.test('the browser flow (issue #12)', async (t) => {
  const ac = await startOAuthCenter()
  t.teardown(() => ac.close())
  const store = ac.app.deps.store
  const query = (extra: Record<string, string> = {}, client = 'partner', redirect = PARTNER_REDIRECT): string => new URLSearchParams({
    response_type: 'code', client_id: client, redirect_uri: redirect, scope: 'openid', state: 'st',
    code_challenge: challenge().challenge, code_challenge_method: 'S256', ...extra
  }).toString()
  const authorize = (q: string): string => `${ac.issuer}/oauth/authorize?${q}`
  const browserSessions = async (): Promise<number> => {
    const user = await store.getUserByMobile(TEST_MOBILE)
    return user === null ? 0 : (await store.listUserSessions(user.id, Date.now())).filter((s) => s.clientId === 'authcenter-web').length
  }

  await t.test('a request field with CR/LF or U+2028 is a 400 page and nothing is half-done', async (t) => {
    for (const bad of ['\r\nSet-Cookie: evil=1', '\u2028', '\n']) {
      const browser = new Browser()
      const page = await browser.get(authorize(query()))
      t.equal(page.status, 200)
      const fields = formFields(await page.text(), 'login')
      const before = await browserSessions()
      // The form's own request, with the bad characters inside the state value.
      const request = `${fields.request!.replace(/(^|&)state=[^&]*/, '')}&state=st${bad}`
      const res = await browser.post(`${ac.issuer}/oauth/authorize/login`, { ...fields, request, mobile: TEST_MOBILE, code: TEST_OTP })
      t.equal(res.status, 400, encodeURIComponent(bad))
      t.equal(res.headers.get('location'), null)
      t.match(res.headers.get('content-type'), /^text\/html/)
      t.equal(res.headers.get('set-cookie'), null, 'no sign-in cookie')
      t.equal(await browserSessions(), before, 'no browser session was created')
    }
    // Logout with a bad request field: 400, and the sign-in stays.
    const browser = new Browser()
    await loginAndConsent(browser, authorize(query()), ac.issuer)
    const consentPage = await browser.get(authorize(query({ prompt: 'consent' })))
    const logout = formFields(await consentPage.text(), 'logout')
    const live = await browserSessions()
    const res = await browser.post(`${ac.issuer}/oauth/authorize/logout`, { ...logout, request: `${logout.request!}&x=\r\nSet-Cookie: a=b` })
    t.equal(res.status, 400)
    t.equal(res.headers.get('location'), null)
    t.equal(await browserSessions(), live, 'not logged out')
  })

  await t.test('the redirect after sign-in is rebuilt from the parsed parameters', async (t) => {
    const browser = new Browser()
    const q = query({ state: 'a b+c%2Fd' })
    const page = await browser.get(authorize(q))
    const fields = formFields(await page.text(), 'login')
    const res = await browser.post(`${ac.issuer}/oauth/authorize/login`, { ...fields, mobile: TEST_MOBILE, code: TEST_OTP })
    t.equal(res.status, 303)
    const loc = new URL(res.headers.get('location')!, ac.issuer)
    t.equal(loc.pathname, '/oauth/authorize')
    t.equal(loc.searchParams.get('state'), 'a b+c%2Fd')
    t.equal(loc.searchParams.get('client_id'), 'partner')
  })

  await t.test('a consent CSRF token only approves the request it was shown for', async (t) => {
    const browser = new Browser()
    const shown = query({ prompt: 'consent' })
    // Sign in through the pages, stopping at the consent page of the partner's request.
    const page = await browser.get(authorize(shown))
    const login = formFields(await page.text(), 'login')
    const after = await browser.post(`${ac.issuer}/oauth/authorize/login`, { ...login, mobile: TEST_MOBILE, code: TEST_OTP })
    const consentPage = await browser.get(new URL(after.headers.get('location')!, ac.issuer).href)
    t.equal(consentPage.status, 200)
    const consent = formFields(await consentPage.text(), 'consent')
    const swaps = [
      query({ prompt: 'consent' }, 'spa', SPA_REDIRECT),
      query({ prompt: 'consent', scope: 'openid phone profile:write' }),
      query({ prompt: 'consent', state: 'other' })
    ]
    for (const request of swaps) {
      const res = await browser.post(`${ac.issuer}/oauth/authorize/consent`, { ...consent, request, decision: 'allow' })
      t.equal(res.status, 403, request)
      t.equal(res.headers.get('location'), null, 'no code')
    }
    t.equal(await store.getConsent((await store.getUserByMobile(TEST_MOBILE))!.id, 'spa'), null, 'no consent recorded for the swapped client')
    const ok = await browser.post(`${ac.issuer}/oauth/authorize/consent`, { ...consent, decision: 'allow' })
    t.equal(ok.status, 303, 'the request it was shown for is approved')
    t.match(new URL(ok.headers.get('location')!).searchParams.get('code'), /^[A-Za-z0-9_-]{43}$/)
  })

  await t.test('prompt=login and max_age make a signed-in browser sign in again; auth_time is the new sign-in', async (t) => {
    const browser = new Browser()
    const first = await loginAndConsent(browser, authorize(query()), ac.issuer)
    t.ok(first.searchParams.get('code'), 'signed in, consent remembered')
    const straight = await browser.get(authorize(query({ max_age: '3600' })))
    t.equal(straight.status, 303, 'a recent enough sign-in satisfies max_age=3600')
    t.ok(new URL(straight.headers.get('location')!).searchParams.get('code'))

    for (const extra of [{ prompt: 'login' }, { max_age: '0' }] as Array<Record<string, string>>) {
      const oldSid = (await ac.app.deps.store.listUserSessions((await store.getUserByMobile(TEST_MOBILE))!.id, Date.now()))
        .filter((s) => s.clientId === 'authcenter-web').map((s) => s.id)
      const p = challenge()
      const q = query({ ...extra, code_challenge: p.challenge, nonce: 'n-1' })
      const page = await browser.get(authorize(q))
      t.equal(page.status, 200, `${JSON.stringify(extra)}: the login page, not a code from the live session`)
      const html = await page.text()
      t.match(html, /Sign in to continue/)
      const login = formFields(html, 'login')
      const after = await browser.post(`${ac.issuer}/oauth/authorize/login`, { ...login, mobile: TEST_MOBILE, code: TEST_OTP })
      t.equal(after.status, 303)
      const back = await browser.get(new URL(after.headers.get('location')!, ac.issuer).href)
      t.equal(back.status, 303, 'after the new sign-in: straight back with a code (no loop)')
      const loc = new URL(back.headers.get('location')!)
      t.equal(`${loc.origin}${loc.pathname}`, PARTNER_REDIRECT)
      const tokens = await fetch(`${ac.issuer}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('partner', PARTNER_SECRET) },
        body: new URLSearchParams({ grant_type: 'authorization_code', code: loc.searchParams.get('code')!, redirect_uri: PARTNER_REDIRECT, code_verifier: p.verifier })
      })
      t.equal(tokens.status, 200)
      const idToken = payload(((await tokens.json()) as { id_token: string }).id_token)
      const user = (await store.getUserByMobile(TEST_MOBILE))!
      const web = (await store.listUserSessions(user.id, Date.now())).filter((s) => s.clientId === 'authcenter-web')
      const fresh = web.filter((s) => !oldSid.includes(s.id))
      t.equal(fresh.length, 1, 'one new browser session')
      t.equal(web.length, oldSid.length, 'the replaced browser sign-in was ended: one out, one in')
      t.equal(idToken.auth_time, Math.floor(fresh[0]!.createdAt / 1000), 'auth_time is the re-login')
      t.equal(idToken.nonce, 'n-1')
    }
  })

  await t.test('prompt and max_age refusals', async (t) => {
    const anonymous = await fetch(authorize(query({ prompt: 'none', max_age: '0' })), { redirect: 'manual' })
    t.equal(new URL(anonymous.headers.get('location')!).searchParams.get('error'), 'login_required')
    const browser = new Browser()
    await loginAndConsent(browser, authorize(query()), ac.issuer)
    const none = await browser.get(authorize(query({ prompt: 'none', max_age: '0' })))
    t.equal(none.status, 303)
    t.equal(new URL(none.headers.get('location')!).searchParams.get('error'), 'login_required', 'prompt=none cannot re-authenticate')
    for (const extra of [{ max_age: 'soon' }, { max_age: '-1' }, { prompt: 'none login' }, { prompt: 'relogin' }] as Array<Record<string, string>>) {
      const res = await browser.get(authorize(query(extra)))
      t.equal(res.status, 303, JSON.stringify(extra))
      t.equal(new URL(res.headers.get('location')!).searchParams.get('error'), 'invalid_request', JSON.stringify(extra))
    }
  })
})
