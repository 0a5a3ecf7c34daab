import t from 'tap'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose'
import { ConfigError, loadConfig } from '../../src/app.js'
import { loadClients } from '../../src/clients/registry.js'
import { KeyRing } from '../../src/keys/key-ring.js'
import { generateKey } from '../../src/keys/key-set.js'
import { keyStores } from '../../src/keys/key-stores.js'
import { Browser, PARTNER_REDIRECT, PARTNER_SECRET, loginAndConsent, startOAuthCenter, type OAuthCenter } from './helpers.js'

const ADMIN = 'admin-token-0123456789abcdef'
const basic = (id: string, secret: string): string => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`

async function idToken (ac: OAuthCenter, clientId: string, redirectUri: string, auth: Record<string, string>): Promise<{ id_token: string, access_token: string }> {
  const verifier = randomBytes(32).toString('base64url')
  const params = new URLSearchParams({
    response_type: 'code', client_id: clientId, redirect_uri: redirectUri, scope: 'openid', state: 's', nonce: 'n',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256'
  })
  const back = await loginAndConsent(new Browser(), `${ac.issuer}/oauth/authorize?${params}`, ac.issuer)
  const res = await fetch(`${ac.issuer}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...auth },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: back.searchParams.get('code')!, redirect_uri: redirectUri, code_verifier: verifier, ...(auth.authorization === undefined ? { client_id: clientId } : {}) })
  })
  if (res.status !== 200) throw new Error(`token: ${res.status} ${await res.text()}`)
  return await res.json() as { id_token: string, access_token: string }
}

const jwksOf = async (ac: OAuthCenter): Promise<JSONWebKeySet & { keys: Array<{ kid: string, alg: string }> }> =>
  await (await fetch(`${ac.issuer}/.well-known/jwks.json`)).json() as JSONWebKeySet & { keys: Array<{ kid: string, alg: string }> }

t.test('ID tokens are RS256 by default while access tokens keep EdDSA; the JWKS carries both keys (issue #12)', async (t) => {
  const ac = await startOAuthCenter({ AUTH_ADMIN_TOKEN: ADMIN })
  t.teardown(() => ac.close())
  const meta = await (await fetch(`${ac.issuer}/.well-known/openid-configuration`)).json() as Record<string, unknown>
  t.same(meta.id_token_signing_alg_values_supported, ['RS256', 'EdDSA'], 'RS256 included (OpenID Discovery §3), first')
  const as = await (await fetch(`${ac.issuer}/.well-known/oauth-authorization-server`)).json() as Record<string, unknown>
  t.same(as.id_token_signing_alg_values_supported, ['RS256', 'EdDSA'])

  const jwks = await jwksOf(ac)
  t.same(jwks.keys.map((k) => k.alg), ['EdDSA', 'RS256'], 'the access-token key first, then the ID-token key')
  const tokens = await idToken(ac, 'partner', PARTNER_REDIRECT, { authorization: basic('partner', PARTNER_SECRET) })
  const at = decodeProtectedHeader(tokens.access_token)
  const it = decodeProtectedHeader(tokens.id_token)
  t.equal(at.alg, 'EdDSA')
  t.equal(at.kid, jwks.keys[0]!.kid)
  t.equal(it.alg, 'RS256')
  t.equal(it.kid, jwks.keys[1]!.kid)
  const { payload } = await jwtVerify(tokens.id_token, createLocalJWKSet(jwks), { issuer: ac.issuer, audience: 'partner', algorithms: ['RS256'] })
  t.equal(payload.nonce, 'n')
  const half = createHash('sha256').update(tokens.access_token).digest().subarray(0, 16).toString('base64url')
  t.equal(payload.at_hash, half, 'at_hash with the ID token\'s hash (SHA-256 for RS256)')

  // A client that registers the access-token algorithm gets it.
  const reg = await fetch(`${ac.issuer}/admin/clients`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ client_id: 'ed-app', type: 'public', redirect_uris: ['http://localhost:5999/cb'], scope: 'openid', id_token_signed_response_alg: 'EdDSA' })
  })
  t.equal(reg.status, 201)
  const ed = await idToken(ac, 'ed-app', 'http://localhost:5999/cb', {})
  t.equal(decodeProtectedHeader(ed.id_token).alg, 'EdDSA')
  await jwtVerify(ed.id_token, createLocalJWKSet(jwks), { issuer: ac.issuer, audience: 'ed-app', algorithms: ['EdDSA'] })
  const bad = await fetch(`${ac.issuer}/admin/clients`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'public', redirect_uris: ['http://localhost:5999/cb'], scope: 'openid', id_token_signed_response_alg: 'ES256' })
  })
  t.equal(bad.status, 400)
  t.match(await bad.json(), { code: 'INVALID_CLIENT_METADATA', message: /id_token_signed_response_alg: must be RS256 or the access-token algorithm \(EdDSA\)/ })

  t.test('keys:rotate rotates both keys; the retired ones stay published', async (t) => {
    const { store } = await keyStores({ dataDir: ac.app.deps.config.dataDir, kekPrevious: [] })
    const other = await KeyRing.open({ store, alg: 'EdDSA', reloadIntervalMs: 0 })
    await other.rotate(120_000)
    other.close()
    await ac.app.deps.keys.reload()
    const after = await jwksOf(ac)
    t.equal(after.keys.length, 4, 'two new keys and the two retired ones')
    t.same(after.keys.map((k) => k.alg), ['EdDSA', 'EdDSA', 'RS256', 'RS256'])
    for (const old of jwks.keys) t.ok(after.keys.some((k) => k.kid === old.kid), `${old.alg} retired key still published`)
    const fresh = await idToken(ac, 'partner', PARTNER_REDIRECT, { authorization: basic('partner', PARTNER_SECRET) })
    const kid = decodeProtectedHeader(fresh.id_token).kid
    t.not(kid, it.kid, 'ID tokens signed with the new RS256 key')
    t.equal(kid, after.keys[2]!.kid)
    t.not(decodeProtectedHeader(fresh.access_token).kid, at.kid, 'access tokens with the new access-token key')
    await jwtVerify(tokens.id_token, createLocalJWKSet(after), { issuer: ac.issuer, audience: 'partner', algorithms: ['RS256'] })
  })
})

t.test('with RS256 access tokens one key signs both', async (t) => {
  const ac = await startOAuthCenter({ AUTH_SIGNING_ALG: 'RS256' })
  t.teardown(() => ac.close())
  const jwks = await jwksOf(ac)
  t.same(jwks.keys.map((k) => k.alg), ['RS256'])
  const tokens = await idToken(ac, 'partner', PARTNER_REDIRECT, { authorization: basic('partner', PARTNER_SECRET) })
  t.equal(decodeProtectedHeader(tokens.id_token).kid, jwks.keys[0]!.kid)
  const meta = await (await fetch(`${ac.issuer}/.well-known/openid-configuration`)).json() as Record<string, unknown>
  t.same(meta.id_token_signing_alg_values_supported, ['RS256'])
})

t.test('a key set from before ID-token keys gets one at start, sealed with the rest', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'authcenter-idkey-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const { store } = await keyStores({ dataDir: dir, kekPrevious: [] })
  // What an earlier version wrote: one EdDSA key, no ID-token key.
  const accessKey = generateKey('EdDSA', Date.now())
  await store.init({ version: 1, revision: 1, refreshMacKey: randomBytes(32).toString('base64url'), keys: [accessKey] })
  const ring = await KeyRing.open({ store, alg: 'EdDSA', reloadIntervalMs: 0 })
  t.teardown(() => ring.close())
  t.equal(ring.kid, accessKey.kid, 'the access-token key is kept')
  t.same(ring.idTokenAlgs, ['RS256', 'EdDSA'])
  t.same(ring.jwks().keys.map((k) => k.alg), ['EdDSA', 'RS256'])
  t.equal(ring.revision, 2, 'saved as a new revision')
  const stored = await store.load()
  t.same(stored!.keys.map((k) => [k.alg, k.purpose ?? 'access']), [['EdDSA', 'access'], ['RS256', 'id_token']], 'the store has it (so replicas and restarts share it)')
  const text = await readFile(join(dir, 'signing-keys.json'), 'utf8')
  t.notMatch(text, /privateJwk|"d":/, 'the file holds no private key in clear: it is sealed with the rest of the key set')
})

t.test('a clients-file client may register only RS256 or the access-token algorithm', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'authcenter-idalg-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const file = join(dir, 'clients.json')
  await writeFile(file, JSON.stringify({ clients: [{ client_id: 'app', type: 'public', redirect_uris: ['http://localhost:1/cb'], id_token_signed_response_alg: 'ES256' }] }))
  t.throws(() => loadClients(loadConfig({ AUTH_CLIENTS_FILE: file })), new ConfigError('AUTH_CLIENTS_FILE: /clients[app]/id_token_signed_response_alg: must be RS256 or the access-token algorithm (EdDSA)'))
  t.doesNotThrow(() => loadClients(loadConfig({ AUTH_CLIENTS_FILE: file, AUTH_SIGNING_ALG: 'ES256' })))
})
