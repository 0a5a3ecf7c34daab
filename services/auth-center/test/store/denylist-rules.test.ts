import t from 'tap'
import { tokenDenied } from '../../src/store/denylist.js'

// tokenDenied is the verifiers' rule (docs/revocation-protocol.md), applied by the auth
// center itself to tokens that have no stored session (client credentials).
const now = 1_800_000_000_000
const tok = { sid: 'S1', iatMs: now - 1000 }

t.test('no entries, no epoch: good', async (t) => {
  t.equal(tokenDenied({}, tok, now), false)
})

t.test('the epoch: a token issued before it is refused, at it or after is good; a malformed one refuses', async (t) => {
  t.equal(tokenDenied({ epoch: `${tok.iatMs + 1}:abcd` }, tok, now), true)
  t.equal(tokenDenied({ epoch: `${tok.iatMs}:abcd` }, tok, now), false)
  t.equal(tokenDenied({ epoch: `${tok.iatMs - 1}:abcd` }, tok, now), false)
  t.equal(tokenDenied({ epoch: 'junk:abcd' }, tok, now), true)
})

t.test('an s: entry refuses while it lives; a malformed one refuses', async (t) => {
  t.equal(tokenDenied({ session: `${now - 10}:${now + 10}` }, tok, now), true)
  t.equal(tokenDenied({ session: `${now - 10}:${now}` }, tok, now), false, 'expired entry (its tokens are all expired too)')
  t.equal(tokenDenied({ session: 'junk' }, tok, now), true)
})

t.test('a u: entry refuses tokens issued at or before revokedAt, except its exceptSid', async (t) => {
  t.equal(tokenDenied({ user: `${tok.iatMs}:${now + 10}` }, tok, now), true, 'the same millisecond: refused')
  t.equal(tokenDenied({ user: `${tok.iatMs - 1}:${now + 10}` }, tok, now), false, 'issued after it')
  t.equal(tokenDenied({ user: `${tok.iatMs + 5}:${now + 10}:S1` }, tok, now), false, 'the excepted sid')
  t.equal(tokenDenied({ user: `${tok.iatMs + 5}:${now + 10}:S2` }, tok, now), true, 'another sid excepted')
  t.equal(tokenDenied({ user: `${tok.iatMs + 5}:${now}` }, tok, now), false, 'expired entry')
  t.equal(tokenDenied({ user: 'junk' }, tok, now), true)
})
