// The refusal suites again with Ed25519 forced onto node:crypto (AUTHCENTER_ED25519=node):
// every other test file verifies EdDSA with libsodium when sodium-native loads (the default),
// so each suite runs on both backends, and on node:crypto as a service without sodium-native does.
import t from 'tap'
import { createVerifier } from '../src/index.js'
import { runSuitesOn } from './ed25519-suites.js'

runSuitesOn('node')

t.test('a value of AUTHCENTER_ED25519 other than node or sodium is refused when a verifier is created', async (t) => {
  process.env.AUTHCENTER_ED25519 = 'openssl'
  t.teardown(() => { process.env.AUTHCENTER_ED25519 = 'node' })
  t.throws(() => createVerifier({ issuer: 'https://issuer.test', audience: 'api' }), { name: 'TypeError', message: /AUTHCENTER_ED25519 must be "node" or "sodium"/ })
})
