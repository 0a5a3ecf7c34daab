// The refusal suites again, with the cache on and every call (without a DPoP
// proof) made twice: the second call of an accepted token is served from the
// verified-token cache, and must answer exactly as the full verification did;
// a refused token is never cached, so it must be refused again, with the same code.
import t from 'tap'
import { suiteMode, verifierDefaults } from './helpers.js'

verifierDefaults.cache = { max: 10_000 }
suiteMode.repeat = true

t.test('load the suites', async (t) => {
  await import('./security.test.js')
  await import('./advisories.test.js')
  await import('./verify.test.js')
  t.pass('loaded')
})

t.test('the suites above ran with every call repeated', async (t) => {
  const { makeKey, startAuthServer, token, verifierFor } = await import('./helpers.js')
  const key = await makeKey()
  const server = await startAuthServer([key.jwk])
  t.teardown(() => server.close())
  const verify = verifierFor(t, server)
  await verify(token(server, key))
  t.equal(verify.cache?.size, 1)
})
