import t from 'tap'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { claimsOf, dpopKey } from '../helpers/dpop.js'
import { startAuthCenter, TEST_MOBILE, TEST_OTP } from '../helpers/auth-center.js'
import { BOUND_SECRET, Browser, OPS_SECRET, PARTNER_REDIRECT, PARTNER_SECRET, loginAndConsent, startOAuthCenter } from './helpers.js'

// DPoP-bound tokens are bound everywhere, the auth center's own resource endpoints
// included (RFC 9449 §7): refused as Bearer, accepted with the DPoP scheme and a proof
// for the request (with ath), and introspection says what they are bound to (§6.2).

const basic = (id: string, secret: string): string => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`
const ath = (token: string): string => createHash('sha256').update(token).digest('base64url')

t.test('DPoP-bound tokens at userinfo, the admin API and introspection', async (t) => {
  const ac = await startOAuthCenter()
  t.teardown(() => ac.close())
  const tokenUrl = `${ac.issuer}/oauth/token`
  const post = async (url: string, form: Record<string, string>, headers: Record<string, string>) => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(form) })
    return { status: res.status, body: await res.json() as any }
  }
  const get = async (url: string, headers: Record<string, string>) => {
    const res = await fetch(url, { headers })
    const text = await res.text()
    return { status: res.status, body: text === '' ? undefined : JSON.parse(text), challenge: res.headers.get('www-authenticate') }
  }

  const key = await dpopKey()
  const verifier = randomBytes(32).toString('base64url')
  const back = await loginAndConsent(new Browser(), `${ac.issuer}/oauth/authorize?${new URLSearchParams({
    response_type: 'code', client_id: 'partner', redirect_uri: PARTNER_REDIRECT, scope: 'openid phone', state: 's',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256'
  })}`, ac.issuer)
  const grant = await post(tokenUrl, { grant_type: 'authorization_code', code: back.searchParams.get('code')!, redirect_uri: PARTNER_REDIRECT, code_verifier: verifier },
    { authorization: basic('partner', PARTNER_SECRET), dpop: await key.proof(tokenUrl) })
  t.equal(grant.status, 200)
  const bound: string = grant.body.access_token
  t.same(claimsOf(bound).cnf, { jkt: key.jkt })

  t.test('userinfo refuses a DPoP-bound token as Bearer and takes it with the DPoP scheme and a proof', async (t) => {
    const url = `${ac.issuer}/oauth/userinfo`
    const asBearer = await get(url, { authorization: `Bearer ${bound}` })
    t.equal(asBearer.status, 401)
    t.equal(asBearer.body.error, 'invalid_dpop_proof')
    t.match(asBearer.challenge, /^DPoP .*error="invalid_dpop_proof"/)
    t.equal((await get(url, { authorization: `DPoP ${bound}` })).status, 401, 'the DPoP scheme without a proof')
    const proof = await key.proof(url, { htm: 'GET', ath: ath(bound) })
    const ok = await get(url, { authorization: `DPoP ${bound}`, dpop: proof })
    t.equal(ok.status, 200, JSON.stringify(ok.body))
    t.equal(ok.body.phone_number, TEST_MOBILE)
    t.equal((await get(url, { authorization: `DPoP ${bound}`, dpop: proof })).status, 401, 'a replayed proof')
    t.equal((await get(url, { authorization: `DPoP ${bound}`, dpop: await key.proof(url, { htm: 'GET' }) })).status, 401, 'a proof without ath')
    t.equal((await get(url, { authorization: `DPoP ${bound}`, dpop: await key.proof(url, { htm: 'POST', ath: ath(bound) }) })).status, 401, 'a proof for another method')
    t.equal((await get(url, { authorization: `DPoP ${bound}`, dpop: await (await dpopKey()).proof(url, { htm: 'GET', ath: ath(bound) }) })).status, 401, 'a proof by another key')
    t.equal((await get(url, { host: 'evil.test', authorization: `DPoP ${bound}`, dpop: await key.proof('http://evil.test/oauth/userinfo', { htm: 'GET', ath: ath(bound) }) })).status, 401,
      'a proof for the Host header instead of the issuer')
  })

  t.test('introspection returns cnf and token_type DPoP for a bound token, neither for an unbound one', async (t) => {
    const introspect = (token: string) => post(`${ac.issuer}/oauth/introspect`, { token }, { authorization: basic('partner', PARTNER_SECRET) })
    const intro = await introspect(bound)
    t.equal(intro.body.active, true)
    t.equal(intro.body.token_type, 'DPoP')
    t.same(intro.body.cnf, { jkt: key.jkt })
    const refresh = await introspect(grant.body.refresh_token)
    t.same(refresh.body.cnf, { jkt: key.jkt }, 'the bound refresh token too')
    const plain = await post(tokenUrl, { grant_type: 'client_credentials', scope: 'profile:read' }, { authorization: basic('partner', PARTNER_SECRET) })
    const unbound = await introspect(plain.body.access_token)
    t.equal(unbound.body.active, true)
    t.equal(unbound.body.token_type, 'Bearer')
    t.notOk('cnf' in unbound.body)
  })

  t.test('the admin API refuses a DPoP-bound admin token as Bearer and takes it with a proof', async (t) => {
    const url = `${ac.issuer}/admin/clients`
    const cc = await post(tokenUrl, { grant_type: 'client_credentials', scope: 'admin' }, { authorization: basic('ops', OPS_SECRET), dpop: await key.proof(tokenUrl) })
    t.equal(cc.status, 200)
    t.equal(cc.body.token_type, 'DPoP')
    const admin: string = cc.body.access_token
    const asBearer = await get(url, { authorization: `Bearer ${admin}` })
    t.equal(asBearer.status, 401)
    t.equal(asBearer.body.code, 'ADMIN_UNAUTHORIZED')
    t.match(asBearer.challenge, /^DPoP realm="admin", error="invalid_dpop_proof"/)
    const ok = await get(url, { authorization: `DPoP ${admin}`, dpop: await key.proof(url, { htm: 'GET', ath: ath(admin) }) })
    t.equal(ok.status, 200)
    t.equal((await get(url, { authorization: `DPoP ${admin}`, dpop: await key.proof(`${ac.issuer}/admin/other`, { htm: 'GET', ath: ath(admin) }) })).status, 401, 'a proof for another URL')

    const plain = await post(tokenUrl, { grant_type: 'client_credentials', scope: 'admin' }, { authorization: basic('ops', OPS_SECRET) })
    t.equal((await get(url, { authorization: `Bearer ${plain.body.access_token as string}` })).status, 200, 'an unbound admin token as Bearer')
    t.equal((await get(url, { authorization: `DPoP ${plain.body.access_token as string}`, dpop: await key.proof(url, { htm: 'GET', ath: ath(plain.body.access_token) }) })).status, 401,
      'an unbound token with the DPoP scheme')
  })

  t.test('a bound client-credentials token of a dpop-policy client is refused as Bearer at the admin API too', async (t) => {
    const cc = await post(tokenUrl, { grant_type: 'client_credentials' }, { authorization: basic('bound', BOUND_SECRET), dpop: await key.proof(tokenUrl) })
    t.equal(cc.status, 200)
    t.equal((await get(`${ac.issuer}/admin/clients`, { authorization: `Bearer ${cc.body.access_token as string}` })).status, 401)
  })
})

t.test('a DPoP-bound first-party token at /auth/*: refused as Bearer, accepted with a proof for the issuer URL', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ac-dpop-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await writeFile(join(dir, 'clients.json'), JSON.stringify({ clients: [{ client_id: 'app', policy: { binding: 'dpop' } }, { client_id: 'slider', policy: { binding: 'dpop', sliding: { idle: '1m', max: '10m' } } }, { client_id: 'cookie-slider', policy: { binding: 'cookie', sliding: { idle: '1m', max: '10m' } } }] }))
  const ac = await startAuthCenter({ AUTH_CLIENTS_FILE: join(dir, 'clients.json') })
  t.teardown(() => ac.close())
  const key = await dpopKey()
  const login = await ac.call('POST', '/auth/login', { mobile: TEST_MOBILE, code: TEST_OTP, client_id: 'app' }, { dpop: await key.proof('http://auth.test/auth/login') })
  t.equal(login.status, 200)
  const token: string = login.body.access_token
  const asBearer = await ac.call('GET', '/auth/sessions', undefined, { authorization: `Bearer ${token}` })
  t.equal(asBearer.status, 401)
  t.equal(asBearer.body.code, 'INVALID_DPOP_PROOF')
  const ok = await ac.call('GET', '/auth/sessions', undefined, { authorization: `DPoP ${token}`, dpop: await key.proof('http://auth.test/auth/sessions', { htm: 'GET', ath: ath(token) }) })
  t.equal(ok.status, 200)
  t.equal(ok.body.sessions.length, 1)
  // The service listens on 127.0.0.1:<port>, but htu is the issuer's URL, whatever the Host header says.
  const byHost = await ac.call('GET', '/auth/sessions', undefined, { authorization: `DPoP ${token}`, dpop: await key.proof(`${ac.url}/auth/sessions`, { htm: 'GET', ath: ath(token) }) })
  t.equal(byHost.status, 401, 'a proof for the address it listens on, not its issuer URL')
  const logout = await ac.call('POST', '/auth/logout', undefined, { authorization: `DPoP ${token}`, dpop: await key.proof('http://auth.test/auth/logout', { ath: ath(token) }) })
  t.equal(logout.status, 204)

  t.test('a DPoP-bound sliding token renews only with the DPoP scheme and a proof with ath', async (t) => {
    const slider = await ac.call('POST', '/auth/login', { mobile: TEST_MOBILE, code: TEST_OTP, client_id: 'slider' }, { dpop: await key.proof('http://auth.test/auth/login') })
    t.equal(slider.status, 200)
    const tok: string = slider.body.access_token
    const url = 'http://auth.test/auth/slide'
    const asBearer = await ac.call('POST', '/auth/slide', undefined, { authorization: `Bearer ${tok}`, dpop: await key.proof(url, { ath: ath(tok) }) })
    t.equal(asBearer.status, 401)
    t.equal(asBearer.body.code, 'INVALID_DPOP_PROOF')
    const inBody = await ac.call('POST', '/auth/slide', { token: tok }, { dpop: await key.proof(url, { ath: ath(tok) }) })
    t.equal(inBody.status, 401, 'in the body it is a Bearer token too')
    const noAth = await ac.call('POST', '/auth/slide', undefined, { authorization: `DPoP ${tok}`, dpop: await key.proof(url) })
    t.equal(noAth.status, 401, 'a proof without ath')
    const ok = await ac.call('POST', '/auth/slide', undefined, { authorization: `DPoP ${tok}`, dpop: await key.proof(url, { ath: ath(tok) }) })
    t.equal(ok.status, 200)
    t.same(claimsOf(ok.body.access_token).cnf, { jkt: key.jkt }, 'the renewed token is bound to the same key')
  })

  t.test('a cookie-bound sliding token renews with its fingerprint cookie only', async (t) => {
    const login = await ac.call('POST', '/auth/login', { mobile: TEST_MOBILE, code: TEST_OTP, client_id: 'cookie-slider' })
    t.equal(login.status, 200)
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!
    const bare = await ac.call('POST', '/auth/slide', undefined, { authorization: `Bearer ${login.body.access_token as string}` })
    t.equal(bare.status, 401)
    t.equal(bare.body.code, 'TOKEN_BINDING_MISMATCH')
    const ok = await ac.call('POST', '/auth/slide', undefined, { authorization: `Bearer ${login.body.access_token as string}`, cookie })
    t.equal(ok.status, 200)
  })
})
