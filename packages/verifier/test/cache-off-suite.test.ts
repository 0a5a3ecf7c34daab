// The refusal and binding/revocation suites again with `cache: false`: every
// other test file runs with the verified-token cache on (the default), so each
// suite is run against both the cached and the uncached verifier.
import t from 'tap'
import { verifierDefaults } from './helpers.js'

verifierDefaults.cache = false

// Loaded inside a subtest, so the root test cannot end while a suite is still
// setting up (its subtests queue behind this one).
t.test('load the suites', async (t) => {
  await import('./security.test.js')
  await import('./advisories.test.js')
  await import('./verify.test.js')
  await import('./binding.test.js')
  await import('./revocation-source.test.js')
  t.pass('loaded')
})

t.test('the suites above ran without the cache', async (t) => {
  const { makeKey, startAuthServer, token, verifierFor } = await import('./helpers.js')
  const key = await makeKey()
  const server = await startAuthServer([key.jwk])
  t.teardown(() => server.close())
  const verify = verifierFor(t, server)
  t.equal(verify.cache, undefined)
  const tok = token(server, key)
  t.not(await verify(tok), await verify(tok), 'every call verifies afresh')
})
