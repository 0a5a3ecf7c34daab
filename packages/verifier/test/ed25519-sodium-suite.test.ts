// The refusal suites with Ed25519 forced onto libsodium (AUTHCENTER_ED25519=sodium), so that
// they verify through it even where the default would not pick it; ed25519-node-suite runs
// them on node:crypto. Skipped where sodium-native cannot be loaded.
import t from 'tap'
import { sodiumAvailable } from '../src/ed25519.js'
import { runSuitesOn } from './ed25519-suites.js'

if (sodiumAvailable()) runSuitesOn('sodium')
else t.plan(0, 'sodium-native cannot be loaded here')
