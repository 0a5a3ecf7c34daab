import t from 'tap'
import { createVerifier } from '@authcenter/verifier'
import { ED25519_ENV, ed25519, sodiumAvailable } from '@authcenter/verifier/ed25519'
import { KeyRing } from '../../src/keys/key-ring.js'
import { keyStores } from '../../src/keys/key-stores.js'
import { startAuthCenter, TEST_MOBILE, TEST_OTP } from '../helpers/auth-center.js'

function part (jwt: string, i: number): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[i]!, 'base64url').toString())
}

/** An auth center started with AUTHCENTER_ED25519 set to `backend` (read when its key ring opens). */
async function startWith (backend: 'node' | 'sodium'): ReturnType<typeof startAuthCenter> {
  const before = process.env[ED25519_ENV]
  process.env[ED25519_ENV] = backend
  try {
    return await startAuthCenter()
  } finally {
    if (before === undefined) delete process.env[ED25519_ENV]
    else process.env[ED25519_ENV] = before
  }
}

t.test('AUTHCENTER_ED25519=node: the auth center signs through node:crypto, its tokens verify and refresh', async (t) => {
  const ac = await startWith('node')
  t.teardown(() => ac.close())
  t.equal(ac.app.deps.keys.ed25519Backend, 'node')
  const login = await ac.call('POST', '/auth/login', { mobile: TEST_MOBILE, code: TEST_OTP })
  t.equal(login.status, 200)
  t.equal(part(login.body.access_token, 0).alg, 'EdDSA')
  const refreshed = await ac.call('POST', '/auth/refresh', { refresh_token: login.body.refresh_token })
  t.equal(refreshed.status, 200)
  const verify = createVerifier({ issuer: 'http://auth.test', audience: 'authcenter', jwksUri: `${ac.url}/.well-known/jwks.json` })
  t.teardown(() => verify.close())
  t.equal((await verify(login.body.access_token)).sub, login.body.user.id)
  t.equal((await verify(refreshed.body.access_token)).sub, login.body.user.id)
})

t.test('libsodium and node:crypto sign the same key set to the same bytes, and both verify under the published JWKS', { skip: sodiumAvailable() ? false : 'sodium-native cannot be loaded here' }, async (t) => {
  for (const server of ['node', 'sodium'] as const) {
    const other = server === 'node' ? 'sodium' : 'node'
    const ac = await startWith(server)
    t.teardown(() => ac.close())
    t.equal(ac.app.deps.keys.ed25519Backend, server)
    const token = (await ac.call('POST', '/auth/login', { mobile: TEST_MOBILE, code: TEST_OTP })).body.access_token as string

    // The same sealed key set opened by a second ring on the other backend: the token signed again, byte for byte.
    const { store } = await keyStores({ dataDir: ac.dataDir, kekPrevious: [] })
    const ring = await KeyRing.open({ store, alg: 'EdDSA', reloadIntervalMs: 0, ed25519: ed25519(other) })
    t.teardown(() => ring.close())
    t.equal(ring.ed25519Backend, other)
    const { alg: _alg, kid, ...header } = part(token, 0)
    t.equal(kid, ring.kid, 'the same key')
    const again = ring.signJws(header, part(token, 1))
    t.equal(again, token, `a token the ${server} backend signed, signed again by the ${other} backend: identical`)

    // A new token of the other backend (a different payload) verifies under the server's JWKS.
    const own = ring.signJws(header, { ...part(token, 1), jti: 'signed-by-' + other })
    const verify = createVerifier({ issuer: 'http://auth.test', audience: 'authcenter', jwksUri: `${ac.url}/.well-known/jwks.json` })
    t.teardown(() => verify.close())
    t.equal((await verify(token)).claims.jti, part(token, 1).jti)
    t.equal((await verify(own)).claims.jti, 'signed-by-' + other)
  }
})

t.test('a wrong AUTHCENTER_ED25519 stops the start', async (t) => {
  const before = process.env[ED25519_ENV]
  process.env[ED25519_ENV] = 'openssl'
  t.teardown(() => { if (before === undefined) delete process.env[ED25519_ENV]; else process.env[ED25519_ENV] = before })
  await t.rejects(startAuthCenter(), { name: 'TypeError', message: /AUTHCENTER_ED25519 must be "node" or "sodium"/ })
})
