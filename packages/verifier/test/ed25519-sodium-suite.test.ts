// The refusal suites with Ed25519 forced onto libsodium (AUTHCENTER_ED25519=sodium), so that
// they verify through it even where the default would not pick it; ed25519-node-suite runs
// them on node:crypto. Skipped where sodium-native cannot be loaded.
import t from 'tap'
import { sodiumAvailable } from '../src/ed25519.js'

if (!sodiumAvailable()) {
  t.plan(0, 'sodium-native cannot be loaded here')
} else {
  process.env.AUTHCENTER_ED25519 = 'sodium'

  t.test('load the suites', async (t) => {
    await import('./security.test.js')
    await import('./advisories.test.js')
    await import('./verify.test.js')
    await import('./binding.test.js')
    await import('./dpop.test.js')
    await import('./node-versions.test.js')
    t.pass('loaded')
  })

  t.test('the suites above ran on libsodium', async (t) => {
    const { ed25519Backend } = await import('../src/index.js')
    t.equal(ed25519Backend(), 'sodium')
  })
}
