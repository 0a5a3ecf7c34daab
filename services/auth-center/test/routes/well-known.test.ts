import t from 'tap'
import { rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { createVerifier } from '@authcenter/verifier'
import { KeyRing } from '../../src/keys/key-ring.js'
import { KEYS_FILE } from '../../src/keys/file-key-store.js'
import { keyStores } from '../../src/keys/key-stores.js'
import { startAuthCenter, TEST_MOBILE, TEST_OTP } from '../helpers/auth-center.js'

function decodeHeader (jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString())
}
function decodePayload (jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString())
}

t.test('access tokens are RFC 9068 EdDSA JWTs that the published JWKS verifies', async (t) => {
  const ac = await startAuthCenter()
  t.teardown(() => ac.close())
  const login = (await ac.call('POST', '/auth/login', { mobile: TEST_MOBILE, code: TEST_OTP })).body
  const header = decodeHeader(login.access_token)
  t.match(header, { alg: 'EdDSA', typ: 'at+jwt', kid: String })
  const claims = decodePayload(login.access_token)
  t.match(claims, { iss: 'http://auth.test', sub: login.user.id, aud: 'authcenter', client_id: 'default', sid: login.session_id, jti: String })
  t.equal(Number(claims.exp) - Math.floor(Number(claims.iat)), 120, 'exp is a whole second; iat carries milliseconds')
  t.equal(Math.round(Number(claims.iat) * 1000) / 1000, Number(claims.iat), 'iat: milliseconds, at most three decimals')

  const jwks = await ac.call('GET', '/.well-known/jwks.json')
  t.equal(jwks.status, 200)
  t.match(jwks.headers.get('cache-control'), /max-age=\d+/)
  t.same(jwks.body.keys.map((k: { alg: string }) => k.alg), ['EdDSA', 'RS256'], 'the access-token key, then the ID-token key (RS256, OpenID Discovery)')
  for (const k of jwks.body.keys) t.notOk('d' in k || 'p' in k || 'q' in k || 'k' in k, 'no private member')

  const verify = createVerifier({ issuer: 'http://auth.test', audience: 'authcenter', jwksUri: `${ac.url}/.well-known/jwks.json` })
  t.teardown(() => verify.close())
  const auth = await verify(login.access_token)
  t.equal(auth.sub, login.user.id)
  t.equal(auth.sid, login.session_id)
})

t.test('metadata documents list the issuer and the JWKS', async (t) => {
  const ac = await startAuthCenter()
  t.teardown(() => ac.close())
  for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
    const r = await ac.call('GET', path)
    t.equal(r.status, 200)
    t.equal(r.body.issuer, 'http://auth.test')
    t.equal(r.body.jwks_uri, 'http://auth.test/.well-known/jwks.json')
  }
})

t.test('keys are generated once, kept private on disk and reused after a restart', async (t) => {
  const first = await startAuthCenter()
  const dataDir = first.dataDir
  const login = (await first.call('POST', '/auth/login', { mobile: TEST_MOBILE, code: TEST_OTP })).body
  const kid = decodeHeader(login.access_token).kid
  const kids = (await first.call('GET', '/.well-known/jwks.json')).body.keys.map((k: { kid: string }) => k.kid)
  t.equal(kids[0], kid)
  await first.app.close()
  t.equal((await stat(join(dataDir, KEYS_FILE))).mode & 0o777, 0o600, 'key file is 0600')

  const second = await startAuthCenter({}, { dataDir })
  // The directory is the first start's, so neither close() removes it (it holds signing keys).
  t.teardown(async () => { await second.close(); await rm(dataDir, { recursive: true, force: true, maxRetries: 3 }) })
  const jwks = (await second.call('GET', '/.well-known/jwks.json')).body
  t.same(jwks.keys.map((k: { kid: string }) => k.kid), kids, 'same keys after restart')
  const verify = createVerifier({ issuer: 'http://auth.test', audience: 'authcenter', jwksUri: `${second.url}/.well-known/jwks.json` })
  t.teardown(() => verify.close())
  t.equal((await verify(login.access_token)).sub, login.user.id, 'a token from before the restart verifies')
  // The refresh MAC key survived too: the session's refresh token still works (memory store is gone, so it is INVALID, not a crash).
})

t.test('rotation keeps the old public key published while its tokens live, without a restart', async (t) => {
  const ac = await startAuthCenter()
  t.teardown(() => ac.close())
  const before = (await ac.call('POST', '/auth/login', { mobile: TEST_MOBILE, code: TEST_OTP })).body
  const oldKid = decodeHeader(before.access_token).kid

  // What `keys:rotate` does, from another "process": its own KeyRing on the same directory (and its development KEK).
  const { store } = await keyStores({ dataDir: ac.dataDir, kekPrevious: [] })
  const other = await KeyRing.open({ store, alg: 'EdDSA', reloadIntervalMs: 0 })
  const newKid = await other.rotate(120_000)
  other.close()
  await ac.app.deps.keys.reload()

  const after = (await ac.call('POST', '/auth/login', { mobile: TEST_MOBILE, code: TEST_OTP })).body
  t.equal(decodeHeader(after.access_token).kid, newKid, 'signs with the new key')
  const published = (await ac.call('GET', '/.well-known/jwks.json')).body.keys as Array<{ kid: string, alg: string }>
  const kids = published.filter((k) => k.alg === 'EdDSA').map((k) => k.kid)
  t.same(kids.sort(), [oldKid, newKid].sort(), 'both access-token keys published')
  t.equal(published.filter((k) => k.alg === 'RS256').length, 2, 'and the new and retired ID-token keys')

  const verify = createVerifier({ issuer: 'http://auth.test', audience: 'authcenter', jwksUri: `${ac.url}/.well-known/jwks.json` })
  t.teardown(() => verify.close())
  t.ok(await verify(before.access_token), 'old token verifies')
  t.ok(await verify(after.access_token), 'new token verifies')
})
