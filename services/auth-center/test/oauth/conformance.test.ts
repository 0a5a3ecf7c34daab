import t from 'tap'
import { createHash, randomBytes } from 'node:crypto'
import { Browser, PARTNER_REDIRECT, PARTNER_SECRET, SPA_REDIRECT, loginAndConsent, startOAuthCenter, type OAuthCenter } from './helpers.js'

const basic = (id: string, secret: string): string => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`
const FORM = { 'content-type': 'application/x-www-form-urlencoded' }

async function post (url: string, form: Record<string, string> | undefined, headers: Record<string, string> = {}): Promise<{ status: number, body: any, headers: Headers }> {
  const res = await fetch(url, { method: 'POST', headers: { ...(form !== undefined ? FORM : {}), ...headers }, ...(form !== undefined ? { body: new URLSearchParams(form) } : {}) })
  const text = await res.text()
  return { status: res.status, body: text === '' ? undefined : JSON.parse(text), headers: res.headers }
}

/** Code + PKCE through the pages, then the token endpoint: the client's tokens. */
async function codeFlow (ac: OAuthCenter, clientId: string, redirectUri: string, scope: string, auth: Record<string, string>): Promise<any> {
  const verifier = randomBytes(32).toString('base64url')
  const params = new URLSearchParams({
    response_type: 'code', client_id: clientId, redirect_uri: redirectUri, scope, state: 's',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256'
  })
  const back = await loginAndConsent(new Browser(), `${ac.issuer}/oauth/authorize?${params}`, ac.issuer)
  const res = await post(`${ac.issuer}/oauth/token`, { grant_type: 'authorization_code', code: back.searchParams.get('code')!, redirect_uri: redirectUri, code_verifier: verifier, ...(auth.authorization === undefined ? { client_id: clientId } : {}) }, auth)
  if (res.status !== 200) throw new Error(`token: ${res.status} ${JSON.stringify(res.body)}`)
  return res.body
}

t.test('OpenID / OAuth conformance (issue #12)', async (t) => {
  const ac = await startOAuthCenter()
  t.teardown(() => ac.close())
  const partner = await codeFlow(ac, 'partner', PARTNER_REDIRECT, 'openid phone', { authorization: basic('partner', PARTNER_SECRET) })

  t.test('POST /oauth/userinfo accepts a Bearer header with no body, and form bodies (OIDC Core §5.3)', async (t) => {
    const bearer = { authorization: `Bearer ${partner.access_token as string}` }
    const none = await post(`${ac.issuer}/oauth/userinfo`, undefined, bearer)
    t.equal(none.status, 200, 'no body, no content-type')
    t.equal(none.body.phone_number, '+8613800000000')
    const emptyForm = await post(`${ac.issuer}/oauth/userinfo`, {}, bearer)
    t.equal(emptyForm.status, 200, 'an empty form body')
    const inBody = await post(`${ac.issuer}/oauth/userinfo`, { access_token: partner.access_token })
    t.equal(inBody.status, 200, 'the token as a form parameter (RFC 6750 §2.2)')
    t.equal(inBody.body.sub, none.body.sub)
    const both = await post(`${ac.issuer}/oauth/userinfo`, { access_token: partner.access_token }, bearer)
    t.equal(both.status, 400, 'header and body at once (RFC 6750 §2: only one method)')
    t.equal(both.body.error, 'invalid_request')
    const anonymous = await post(`${ac.issuer}/oauth/userinfo`, undefined)
    t.equal(anonymous.status, 401)
    t.match(anonymous.headers.get('www-authenticate'), /^Bearer/)
  })

  t.test('introspection requires an authenticated client (RFC 7662 §2.1): a public client_id alone is 401 invalid_client', async (t) => {
    const spa = await codeFlow(ac, 'spa', SPA_REDIRECT, 'openid profile:read', {})
    for (const token of [spa.access_token, spa.refresh_token]) {
      const res = await post(`${ac.issuer}/oauth/introspect`, { client_id: 'spa', token })
      t.equal(res.status, 401)
      t.same(res.body, { error: 'invalid_client', error_description: 'introspection requires client authentication' })
      t.notOk('active' in res.body, 'no claims')
    }
    const anonymous = await post(`${ac.issuer}/oauth/introspect`, { token: spa.access_token })
    t.equal(anonymous.status, 401)
    t.equal(anonymous.body.error, 'invalid_client')
    const confidential = await post(`${ac.issuer}/oauth/introspect`, { token: partner.access_token }, { authorization: basic('partner', PARTNER_SECRET) })
    t.equal(confidential.status, 200)
    t.equal(confidential.body.active, true, 'an authenticated confidential client still introspects its tokens')
    const meta = await (await fetch(`${ac.issuer}/.well-known/openid-configuration`)).json() as Record<string, string[]>
    t.same(meta.introspection_endpoint_auth_methods_supported, ['client_secret_basic', 'client_secret_post', 'private_key_jwt'], 'no "none"')
    t.ok(meta.revocation_endpoint_auth_methods_supported!.includes('none'), 'public clients may still revoke their own tokens (RFC 7009 §2.1)')
    const revoke = await post(`${ac.issuer}/oauth/revoke`, { client_id: 'spa', token: spa.refresh_token })
    t.equal(revoke.status, 200)
  })

  t.test('a state over the documented 1024 characters is not echoed in the error redirect', async (t) => {
    const long = 'x'.repeat(1025)
    const params = new URLSearchParams({
      response_type: 'code', client_id: 'partner', redirect_uri: PARTNER_REDIRECT, scope: 'openid', state: long,
      code_challenge: createHash('sha256').update('v').digest('base64url'), code_challenge_method: 'S256'
    })
    const res = await fetch(`${ac.issuer}/oauth/authorize?${params}`, { redirect: 'manual' })
    t.equal(res.status, 303)
    const loc = new URL(res.headers.get('location')!)
    t.equal(`${loc.origin}${loc.pathname}`, PARTNER_REDIRECT)
    t.equal(loc.searchParams.get('error'), 'invalid_request')
    t.equal(loc.searchParams.get('state'), null, 'no state')
    t.notMatch(res.headers.get('location')!, /xxxxxxxx/)
    const atLimit = await fetch(`${ac.issuer}/oauth/authorize?${new URLSearchParams({ ...Object.fromEntries(params), state: 'y'.repeat(1024), response_type: 'token' })}`, { redirect: 'manual' })
    t.equal(new URL(atLimit.headers.get('location')!).searchParams.get('state'), 'y'.repeat(1024), 'a state within the limit is echoed')
  })
})
