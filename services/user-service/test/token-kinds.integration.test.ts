import t from 'tap'
import { createHash, generateKeyPairSync, randomBytes, randomUUID, sign } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { request as httpRequest } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startRedis } from '@authcenter/testkit'
// The auth center's own OAuth test kit: its clients file and a minimal browser for the login and consent pages.
import { Browser, PARTNER_REDIRECT, PARTNER_SECRET, loginAndConsent, startOAuthCenter } from '../../auth-center/test/oauth/helpers.js'
import { TEST_MOBILE, TEST_OTP } from '../../auth-center/test/helpers/auth-center.js'
import { build } from '../src/app.js'
import { loadConfig } from '../src/config.js'

// Findings of issue #11, end to end against the real auth center: a scope-less OAuth
// client and a client whose id equals a user's id act as nobody here; DPoP proofs are
// single use across replicas sharing a Redis, and htu is the configured PUBLIC_URL.

const ADMIN_TOKEN = 'admin-secret-0123456789abcdef'
const J = { 'content-type': 'application/json' }
const basic = (id: string, secret: string): string => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`
const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url')

/** A device key and RFC 9449 proofs made with node:crypto only. */
function device () {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const { kty, crv, x, y } = publicKey.export({ format: 'jwk' })
  return (htm: string, htu: string, accessToken?: string): string => {
    const claims: Record<string, unknown> = { jti: randomUUID(), htm, htu, iat: Math.floor(Date.now() / 1000) }
    if (accessToken !== undefined) claims.ath = createHash('sha256').update(accessToken).digest('base64url')
    const input = `${b64({ typ: 'dpop+jwt', alg: 'ES256', jwk: { kty, crv, x, y } })}.${b64(claims)}`
    return `${input}.${sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`
  }
}

/** A real HTTP request with a Host header of our choosing (fetch will not send one). */
function send (url: string, method: string, headers: Record<string, string>, body?: string): Promise<{ status: number, code?: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers }, (res) => {
      let text = ''
      res.on('data', (c: Buffer) => { text += String(c) })
      res.on('end', () => { resolve({ status: res.statusCode!, code: text === '' ? undefined : (JSON.parse(text) as { code?: string }).code }) })
    })
    req.on('error', reject)
    req.end(body)
  })
}

async function codeFlow (issuer: string, clientId: string, secret: string, redirectUri: string, scope: string | undefined, dpop?: string): Promise<{ access_token: string }> {
  const verifier = randomBytes(32).toString('base64url')
  const params = new URLSearchParams({
    response_type: 'code', client_id: clientId, redirect_uri: redirectUri, state: 's',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256',
    ...(scope !== undefined ? { scope } : {})
  })
  const back = await loginAndConsent(new Browser(), `${issuer}/oauth/authorize?${params}`, issuer)
  const res = await fetch(`${issuer}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(clientId, secret), ...(dpop !== undefined ? { dpop } : {}) },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: back.searchParams.get('code')!, redirect_uri: redirectUri, code_verifier: verifier })
  })
  if (res.status !== 200) throw new Error(`token endpoint: ${res.status} ${await res.text()}`)
  return await res.json() as { access_token: string }
}

t.test('what a token proves, at the user service', async (t) => {
  const ac = await startOAuthCenter({ AUTH_ADMIN_TOKEN: ADMIN_TOKEN })
  const avatarDir = await mkdtemp(join(tmpdir(), 'us-kinds-'))
  const users = await build(loadConfig({ AUTH_ISSUER: ac.issuer, AVATAR_DIR: avatarDir, LOG_LEVEL: 'silent' }))
  const usersUrl = await users.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(async () => { await users.close(); await ac.close(); await rm(avatarDir, { recursive: true, force: true }) })
  const admin = { authorization: `Bearer ${ADMIN_TOKEN}` }
  const rename = (token: string) => fetch(`${usersUrl}/user/username`, { method: 'PUT', headers: { ...J, authorization: `Bearer ${token}` }, body: JSON.stringify({ username: 'Mallory' }) })

  t.test('an OAuth client registered without scope can do nothing here', async (t) => {
    // The README's admin example: no scope field.
    const reg = await (await fetch(`${ac.issuer}/admin/clients`, { method: 'POST', headers: { ...J, ...admin }, body: JSON.stringify({ name: 'Quiz app', type: 'confidential', redirect_uris: ['https://quiz.example/cb'] }) })).json() as { client_id: string, client_secret: string }
    const { access_token: token } = await codeFlow(ac.issuer, reg.client_id, reg.client_secret, 'https://quiz.example/cb', undefined)
    const res = await rename(token)
    t.equal(res.status, 403, 'PUT /user/username is refused (it was 200)')
    t.equal((await res.json() as { code: string }).code, 'INSUFFICIENT_SCOPE')
    t.equal((await fetch(`${usersUrl}/user/mine`, { headers: { authorization: `Bearer ${token}` } })).status, 403, 'nor may it read the profile')
    t.equal((await fetch(`${usersUrl}/user/access/token`, { headers: { authorization: `Bearer ${token}` } })).status, 403, 'nor learn the user id')
  })

  t.test('a client whose id equals a user\'s id does not act as that user', async (t) => {
    const login = await (await fetch(`${ac.issuer}/auth/login`, { method: 'POST', headers: J, body: JSON.stringify({ mobile: TEST_MOBILE, code: TEST_OTP }) })).json() as { user: { id: string }, access_token: string }
    const userId = login.user.id
    t.equal((await fetch(`${usersUrl}/user/username`, { method: 'PUT', headers: { ...J, authorization: `Bearer ${login.access_token}` }, body: JSON.stringify({ username: 'Ada' }) })).status, 200, 'the user names themself')

    const reg = await fetch(`${ac.issuer}/admin/clients`, { method: 'POST', headers: { ...J, ...admin }, body: JSON.stringify({ client_id: userId, type: 'confidential', grant_types: ['client_credentials'], scope: 'profile:read profile:write' }) })
    t.equal(reg.status, 201)
    const { client_secret: secret } = await reg.json() as { client_secret: string }
    const cc = await (await fetch(`${ac.issuer}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(userId, secret) }, body: new URLSearchParams({ grant_type: 'client_credentials' }) })).json() as { access_token: string }
    const res = await rename(cc.access_token)
    t.equal(res.status, 403, 'refused, though it holds profile:write')
    t.equal((await res.json() as { code: string }).code, 'INSUFFICIENT_SCOPE')
    const mine = await (await fetch(`${usersUrl}/user/mine`, { headers: { authorization: `Bearer ${login.access_token}` } })).json() as { username: string }
    t.equal(mine.username, 'Ada', 'the user\'s profile is unchanged')
  })
})

t.test('DPoP at two replicas of the user service: one Redis replay cache, htu from PUBLIC_URL', async (t) => {
  const redis = await startRedis()
  // The replicas' Redis is theirs alone: the auth center keeps its own (memory) store.
  const ac = await startOAuthCenter()
  const avatarDir = await mkdtemp(join(tmpdir(), 'us-dpop-'))
  const PUBLIC = 'http://users.example.test'
  const env = { AUTH_ISSUER: ac.issuer, AVATAR_DIR: avatarDir, LOG_LEVEL: 'silent', REDIS_URL: redis.url, PUBLIC_URL: PUBLIC }
  const one = await build(loadConfig(env))
  const two = await build(loadConfig(env))
  const oneUrl = await one.listen({ host: '127.0.0.1', port: 0 })
  const twoUrl = await two.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(async () => { await one.close(); await two.close(); await ac.close(); await redis.close(); await rm(avatarDir, { recursive: true, force: true }) })

  const proof = device()
  const { access_token: token } = await codeFlow(ac.issuer, 'partner', PARTNER_SECRET, PARTNER_REDIRECT, 'profile:read', proof('POST', `${ac.issuer}/oauth/token`))
  const htu = `${PUBLIC}/user/mine`
  const auth = { authorization: `DPoP ${token}` }

  const p1 = proof('GET', htu, token)
  const firstUse = await send(`${oneUrl}/user/mine`, 'GET', { ...auth, dpop: p1 })
  t.equal(firstUse.status, 200, `the first use, at replica one (${firstUse.code ?? ''})`)
  const replayed = await send(`${twoUrl}/user/mine`, 'GET', { ...auth, dpop: p1 })
  t.equal(replayed.status, 401, 'the same proof at replica two')
  t.equal(replayed.code, 'INVALID_DPOP_PROOF')
  t.equal((await send(`${twoUrl}/user/mine`, 'GET', { ...auth, dpop: proof('GET', htu, token) })).status, 200, 'a fresh proof at replica two')

  const listening = await send(`${oneUrl}/user/mine`, 'GET', { ...auth, dpop: proof('GET', `${oneUrl}/user/mine`, token) })
  t.equal(listening.status, 401, 'a proof for the address it listens on, not its public URL')
  const spoofed = await send(`${oneUrl}/user/mine`, 'GET', { ...auth, host: 'evil.test', dpop: proof('GET', 'http://evil.test/user/mine', token) })
  t.equal(spoofed.status, 401, 'a proof for a spoofed Host header')
  t.equal(spoofed.code, 'INVALID_DPOP_PROOF')
  const hostIgnored = await send(`${oneUrl}/user/mine`, 'GET', { ...auth, host: 'evil.test', dpop: proof('GET', htu, token) })
  t.equal(hostIgnored.status, 200, 'whatever Host says, the public URL is what counts')
})
