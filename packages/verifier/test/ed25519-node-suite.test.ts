// The refusal suites again with Ed25519 forced onto node:crypto (AUTHCENTER_ED25519=node):
// every other test file verifies EdDSA with libsodium when sodium-native loads (the default),
// so each suite runs on both backends, and on node:crypto as a service without sodium-native does.
import t from 'tap'

process.env.AUTHCENTER_ED25519 = 'node'

t.test('load the suites', async (t) => {
  await import('./security.test.js')
  await import('./advisories.test.js')
  await import('./verify.test.js')
  await import('./binding.test.js')
  await import('./dpop.test.js')
  await import('./node-versions.test.js')
  t.pass('loaded')
})

t.test('the suites above ran on node:crypto', async (t) => {
  const { ed25519Backend } = await import('../src/index.js')
  t.equal(ed25519Backend(), 'node')
})

t.test('a value of AUTHCENTER_ED25519 other than node or sodium is refused when a verifier is created', async (t) => {
  const { createVerifier } = await import('../src/index.js')
  process.env.AUTHCENTER_ED25519 = 'openssl'
  t.teardown(() => { process.env.AUTHCENTER_ED25519 = 'node' })
  t.throws(() => createVerifier({ issuer: 'https://issuer.test', audience: 'api' }), { name: 'TypeError', message: /AUTHCENTER_ED25519 must be "node" or "sodium"/ })
})
