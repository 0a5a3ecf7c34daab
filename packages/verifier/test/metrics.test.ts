// The monitoring hooks: each called exactly as often as the thing it counts happened,
// and a verifier without them is the plain verify function (nothing wrapped).
import t from 'tap'
import { createVerifier, type VerifierMetrics } from '../src/index.js'
import { AUDIENCE, makeKey, startAuthServer, token } from './helpers.js'

const ed = await makeKey('EdDSA')
const server = await startAuthServer([ed.jwk])
t.teardown(() => server.close())

function recorder (): { hooks: Required<VerifierMetrics>, outcomes: string[], cache: boolean[], fetches: boolean[] } {
  const outcomes: string[] = []
  const cache: boolean[] = []
  const fetches: boolean[] = []
  return {
    outcomes,
    cache,
    fetches,
    hooks: {
      onVerify: (o) => { outcomes.push(o) },
      onCache: (hit) => { cache.push(hit) },
      onJwksFetch: (ok) => { fetches.push(ok) }
    }
  }
}

t.test('verify outcomes by code, cache hits and misses, JWKS fetches', async (t) => {
  const r = recorder()
  const verify = createVerifier({ issuer: server.issuer, audience: AUDIENCE, metrics: r.hooks })
  t.teardown(() => verify.close())
  const tok = token(server, ed)
  await verify(tok)
  await verify(tok)
  await verify.verify(tok)
  await t.rejects(verify(token(server, ed, { exp: Math.floor(Date.now() / 1000) - 60 })), { code: 'TOKEN_EXPIRED' })
  await t.rejects(verify(''), { code: 'TOKEN_MISSING' })
  await t.rejects(verify(tok, { scope: 'admin' }), { code: 'INSUFFICIENT_SCOPE' })
  t.same(r.outcomes, ['OK', 'OK', 'OK', 'TOKEN_EXPIRED', 'TOKEN_MISSING', 'INSUFFICIENT_SCOPE'])
  // The missing token is refused before the cache is looked at; the expired one is a miss.
  t.same(r.cache, [false, true, true, false, true])
  t.same(r.fetches, [true])
})

t.test('a failed JWKS fetch is reported as such', async (t) => {
  const r = recorder()
  const other = await startAuthServer([ed.jwk])
  t.teardown(() => other.close())
  other.mode = 'error'
  const verify = createVerifier({ issuer: other.issuer, audience: AUDIENCE, metrics: r.hooks, logger: { warn: () => {}, info: () => {} } })
  t.teardown(() => verify.close())
  await t.rejects(verify(token(other, ed)), { code: 'JWKS_UNAVAILABLE' })
  t.same(r.fetches, [false])
  t.same(r.outcomes, ['JWKS_UNAVAILABLE'])
})

t.test('no hooks: the verify function is not wrapped; bad hooks are a TypeError', async (t) => {
  const verify = createVerifier({ issuer: server.issuer, audience: AUDIENCE })
  t.teardown(() => verify.close())
  t.equal(verify.verify, verify)
  const hooked = createVerifier({ issuer: server.issuer, audience: AUDIENCE, metrics: { onCache: () => {} } })
  t.teardown(() => hooked.close())
  t.equal(hooked.verify, hooked, 'onCache alone does not wrap verify either')
  t.throws(() => createVerifier({ issuer: server.issuer, audience: AUDIENCE, metrics: { onVerify: 1 as never } }), { name: 'TypeError', message: '"metrics.onVerify" must be a function' })
  t.throws(() => createVerifier({ issuer: server.issuer, audience: AUDIENCE, metrics: 'x' as never }), { name: 'TypeError' })
})

t.test('feed staleness: staleSince is set until the first list loads, undefined once fresh', async (t) => {
  const verify = createVerifier({
    issuer: server.issuer,
    audience: AUDIENCE,
    revocation: { source: { load: async () => ({ epoch: `${Date.now()}:x`, entries: [] }), subscribe: () => () => {} }, logger: { info: () => {}, warn: () => {}, error: () => {} } }
  })
  t.teardown(() => verify.close())
  t.type(verify.revocation?.staleSince, 'number')
  await verify.ready()
  t.equal(verify.revocation?.fresh, true)
  t.equal(verify.revocation?.staleSince, undefined)
})
