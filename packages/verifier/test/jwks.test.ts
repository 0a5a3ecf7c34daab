import t from 'tap'
import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { TokenError } from '../src/index.js'
import { makeKey, refuses, startAuthServer, token, verifierFor } from './helpers.js'

const JWKS = '/jwks'
const OAUTH = '/.well-known/oauth-authorization-server'
const OIDC = '/.well-known/openid-configuration'

t.test('discovers the JWKS through the authorization server metadata', async (t) => {
  const key = await makeKey('EdDSA')
  const server = await startAuthServer([key.jwk])
  t.teardown(() => server.close())
  const verify = verifierFor(t, server)
  t.equal((await verify(token(server, key))).sub, 'user-1')
  t.equal(server.count(OAUTH), 1)
  t.equal(server.count(OIDC), 0)
  t.equal(server.count(JWKS), 1)
})

t.test('falls back to openid-configuration when there is no oauth-authorization-server document', async (t) => {
  const key = await makeKey('ES256')
  const server = await startAuthServer([key.jwk])
  t.teardown(() => server.close())
  server.metadata = 'openid'
  const verify = verifierFor(t, server)
  t.ok(await verify(token(server, key)))
  t.equal(server.count(OAUTH), 1)
  t.equal(server.count(OIDC), 1)
})

t.test('uses jwksUri directly when it is given, without discovery', async (t) => {
  const key = await makeKey('RS256')
  const server = await startAuthServer([key.jwk])
  t.teardown(() => server.close())
  server.metadata = 'none'
  const verify = verifierFor(t, server, { jwksUri: server.jwksUri })
  t.ok(await verify(token(server, key)))
  t.equal(server.count(OAUTH) + server.count(OIDC), 0)
})

t.test('answers JWKS_UNAVAILABLE when the metadata names another issuer', async (t) => {
  const key = await makeKey('EdDSA')
  const server = await startAuthServer([key.jwk])
  t.teardown(() => server.close())
  server.metadataIssuer = 'https://evil.example'
  const verify = verifierFor(t, server)
  const err = await refuses(t, verify, token(server, key), 'JWKS_UNAVAILABLE', 'foreign metadata')
  t.equal(err?.statusCode, 503)
  t.ok(err?.cause, 'the fetch error is the cause')
  t.equal(server.count(JWKS), 0)
})

t.test('fetches the JWKS once for many verifications, even concurrent first ones', async (t) => {
  const key = await makeKey('EdDSA')
  const server = await startAuthServer([key.jwk])
  t.teardown(() => server.close())
  const verify = verifierFor(t, server, { jwksUri: server.jwksUri })
  const results = await Promise.all(Array.from({ length: 20 }, async () => verify(token(server, key))))
  t.equal(results.length, 20)
  for (let i = 0; i < 50; i++) await verify(token(server, key))
  t.equal(server.count(JWKS), 1)
})

t.test('verifies old and new kid during a key rotation, refetching exactly once', async (t) => {
  const oldKey = await makeKey('EdDSA')
  const newKey = await makeKey('EdDSA')
  const server = await startAuthServer([oldKey.jwk])
  t.teardown(() => server.close())
  const verify = verifierFor(t, server, { cooldownDuration: 100 })
  t.ok(await verify(token(server, oldKey)))
  t.equal(server.count(JWKS), 1)

  await sleep(150) // past the cooldown that follows the first fetch
  server.keys = [newKey.jwk, oldKey.jwk] // the auth center rotates; the old key stays published
  t.ok(await verify(token(server, newKey)), 'the new kid verifies without a restart')
  t.equal(server.count(JWKS), 2, 'the unknown kid caused one refetch')
  t.ok(await verify(token(server, oldKey)), 'the old kid still verifies')
  t.ok(await verify(token(server, newKey)))
  t.equal(server.count(JWKS), 2, 'no more fetches for known kids')

  await sleep(150)
  server.keys = [newKey.jwk] // the old key retires
  await refuses(t, verify, token(server, await makeKey('EdDSA')), 'TOKEN_INVALID', 'some other kid')
  t.equal(server.count(JWKS), 3)
  await refuses(t, verify, token(server, oldKey), 'TOKEN_INVALID', 'the retired kid is gone after the refetch')
})

t.test('with the default cooldown, a key rotated in a second after start is picked up at once; the next unknown kid waits', async (t) => {
  const oldKey = await makeKey('EdDSA')
  const newKey = await makeKey('EdDSA')
  const server = await startAuthServer([oldKey.jwk])
  t.teardown(() => server.close())
  const verify = verifierFor(t, server)
  t.ok(await verify(token(server, oldKey)))
  await sleep(1050)
  server.keys = [newKey.jwk, oldKey.jwk]
  t.ok(await verify(token(server, newKey)), 'no 30 s wait after the first load')
  t.equal(server.count(JWKS), 2)
  await sleep(1050)
  await refuses(t, verify, token(server, await makeKey('EdDSA')), 'TOKEN_INVALID', 'another unknown kid')
  t.equal(server.count(JWKS), 2, 'within the cooldown of the last miss: no fetch')
})

t.test('a burst of 100 random kids causes at most one refetch', async (t) => {
  const key = await makeKey('EdDSA')
  const server = await startAuthServer([key.jwk])
  t.teardown(() => server.close())
  const verify = verifierFor(t, server, { cooldownDuration: 1000 })
  await verify(token(server, key))
  const randomKid = (): string => token(server, key, {}, { kid: randomUUID() })
  const tokens = Array.from({ length: 200 }, randomKid)
  await sleep(1050) // past the cooldown that follows the first fetch
  const random = async (): Promise<unknown> => verify(tokens.pop()).catch((e: unknown) => e)
  const concurrent = await Promise.all(Array.from({ length: 100 }, random))
  t.ok(concurrent.every((e) => e instanceof TokenError && e.code === 'TOKEN_INVALID'), 'all refused as TOKEN_INVALID')
  t.equal(server.count(JWKS), 2, 'one refetch shared by the concurrent burst')
  for (let i = 0; i < 100; i++) await random()
  t.equal(server.count(JWKS), 2, 'none for 100 more in a row within the cooldown')
  t.ok(await verify(token(server, key)), 'the real key still verifies')
})

t.test('keeps verifying cached keys after the JWKS server is gone; an unknown kid is TOKEN_INVALID, not a hang', async (t) => {
  const key = await makeKey('ES256')
  const server = await startAuthServer([key.jwk])
  const verify = verifierFor(t, server, { cooldownDuration: 0, timeoutDuration: 500 })
  t.ok(await verify(token(server, key)))
  await server.close()
  t.ok(await verify(token(server, key)), 'cached key')
  const started = Date.now()
  await refuses(t, verify, token(server, await makeKey('ES256')), 'TOKEN_INVALID', 'unknown kid, server closed')
  t.ok(Date.now() - started < 10_000, 'answered, not a hang')
  t.ok(await verify(token(server, key)), 'cached key still verifies after the failed refetch')
})

t.test('an unresponsive JWKS endpoint times out instead of hanging', async (t) => {
  const key = await makeKey('EdDSA')
  const server = await startAuthServer([key.jwk])
  t.teardown(() => server.close())
  const verify = verifierFor(t, server, { cooldownDuration: 0, timeoutDuration: 200 })
  t.ok(await verify(token(server, key)))
  server.mode = 'hang'
  const started = Date.now()
  await refuses(t, verify, token(server, await makeKey('EdDSA')), 'TOKEN_INVALID', 'unknown kid while the server hangs')
  // A bound far above the 200 ms timeout and far below a hang (tap's 120 s): the machine is shared.
  t.ok(Date.now() - started < 10_000, 'ends at the timeout, not a hang')
  t.ok(await verify(token(server, key)))

  const fresh = verifierFor(t, server, { timeoutDuration: 200 })
  await refuses(t, fresh, token(server, key), 'JWKS_UNAVAILABLE', 'first fetch hangs')
})

t.test('answers JWKS_UNAVAILABLE while no key was ever fetched, and recovers once the issuer answers', async (t) => {
  // A port that was free a moment ago: nothing listens there.
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as AddressInfo
  await new Promise((resolve) => probe.close(resolve))
  const key = await makeKey('EdDSA')
  const server = await startAuthServer([key.jwk])
  t.teardown(() => server.close())
  let calls = 0
  // The first fetch goes to the dead port, the later ones to the live server.
  const fetch: typeof globalThis.fetch = async (input, init) => {
    calls++
    return globalThis.fetch(calls === 1 ? `http://127.0.0.1:${port}/jwks` : input, init)
  }
  const verify = verifierFor(t, server, { jwksUri: server.jwksUri, fetch, cooldownDuration: 0 })
  const err = await refuses(t, verify, token(server, key), 'JWKS_UNAVAILABLE', 'first fetch failed')
  t.equal(err?.statusCode, 503)
  t.ok(await verify(token(server, key)), 'the next call fetches again and verifies')
  t.equal(calls, 2)
})

t.test('limits retries while the issuer stays down', async (t) => {
  let calls = 0
  const fetch: typeof globalThis.fetch = async () => { calls++; throw new Error('connection refused') }
  const key = await makeKey('EdDSA')
  const server = await startAuthServer([key.jwk])
  t.teardown(() => server.close())
  const verify = verifierFor(t, server, { fetch })
  await Promise.all(Array.from({ length: 50 }, async () => refuses(t, verify, token(server, key), 'JWKS_UNAVAILABLE', 'down')))
  for (let i = 0; i < 20; i++) await refuses(t, verify, token(server, key), 'JWKS_UNAVAILABLE', 'still down')
  t.equal(calls, 2, 'one discovery attempt per document, shared and then rate-limited')
})

t.test('refreshes a stale key set in the background and keeps serving the old one when that fails', async (t) => {
  const key = await makeKey('RS256')
  const server = await startAuthServer([key.jwk])
  t.teardown(() => server.close())
  const verify = verifierFor(t, server, { cacheMaxAge: 50, cooldownDuration: 0 })
  t.ok(await verify(token(server, key)))
  t.equal(server.count(JWKS), 1)
  await sleep(80)
  t.ok(await verify(token(server, key)), 'served from the stale set')
  await sleep(50)
  t.equal(server.count(JWKS), 2, 'refetched in the background')

  server.mode = 'error'
  await sleep(80)
  t.ok(await verify(token(server, key)), 'stale again, refresh fails')
  await sleep(50)
  t.equal(server.count(JWKS), 3)
  t.ok(await verify(token(server, key)), 'the old set keeps serving')
})

t.test('close() stops fetching: cached keys still verify, nothing new is fetched', async (t) => {
  const key = await makeKey('EdDSA')
  const server = await startAuthServer([key.jwk])
  t.teardown(() => server.close())
  const verify = verifierFor(t, server, { cooldownDuration: 0 })
  t.ok(await verify(token(server, key)))
  verify.close()
  t.ok(await verify(token(server, key)))
  await refuses(t, verify, token(server, await makeKey('EdDSA')), 'TOKEN_INVALID', 'unknown kid after close')
  t.equal(server.count(JWKS), 1)
})

t.test('ignores JWKS entries without kid or with a private or unknown key, and uses the rest', async (t) => {
  const key = await makeKey('EdDSA')
  const other = await makeKey('EdDSA')
  const { kid: _kid, ...noKid } = other.jwk
  const server = await startAuthServer([noKid, { kty: 'XYZ', kid: 'x' }, { kty: 'RSA', kid: 'bad', n: '!!', e: 'AQAB' }, 'junk', key.jwk])
  t.teardown(() => server.close())
  const verify = verifierFor(t, server)
  t.ok(await verify(token(server, key)))
})
