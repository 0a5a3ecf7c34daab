// The refusal suites on one Ed25519 backend, for ed25519-node-suite and ed25519-sodium-suite:
// AUTHCENTER_ED25519 is read when a verifier is created, so every verifier of the suites uses it.
import t from 'tap'
import { ed25519Backend } from '../src/index.js'

export function runSuitesOn (backend: 'node' | 'sodium'): void {
  process.env.AUTHCENTER_ED25519 = backend

  // Loaded inside a subtest, so the root test cannot end while a suite is still setting up.
  t.test('load the suites', async (t) => {
    await import('./security.test.js')
    await import('./advisories.test.js')
    await import('./verify.test.js')
    await import('./binding.test.js')
    await import('./dpop.test.js')
    await import('./node-versions.test.js')
    t.pass('loaded')
  })

  t.test(`the suites above ran on ${backend}`, async (t) => {
    t.equal(ed25519Backend(), backend)
  })
}
