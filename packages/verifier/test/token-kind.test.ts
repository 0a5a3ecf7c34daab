import t from 'tap'
import { makeKey, startAuthServer, token, verifierFor } from './helpers.js'

// What a token may do is read from a positive marker (`ac_kind`), never from a missing claim.
const key = await makeKey('EdDSA')
const server = await startAuthServer([key.jwk])
t.teardown(() => server.close())

t.test('ac_kind "first-party" makes a first-party token: it acts as the user', async (t) => {
  const verify = verifierFor(t, server)
  const auth = await verify(token(server, key, { ac_kind: 'first-party', scope: undefined }))
  t.equal(auth.kind, 'first-party')
  t.equal(auth.firstParty, true)
})

t.test('ac_kind "client" marks a client acting for itself', async (t) => {
  const verify = verifierFor(t, server)
  const auth = await verify(token(server, key, { ac_kind: 'client', sub: 'client:partner', scope: '' }))
  t.equal(auth.kind, 'client')
  t.equal(auth.firstParty, false)
  t.same(auth.scope, [])
})

t.test('no ac_kind, or any other value, is third-party: only its scope counts', async (t) => {
  const verify = verifierFor(t, server)
  for (const [name, claims] of [
    ['no ac_kind and no scope', { scope: undefined }],
    ['no ac_kind, with a scope', { scope: 'profile:read' }],
    ['ac_kind third-party', { ac_kind: 'third-party', scope: '' }],
    ['an unknown ac_kind', { ac_kind: 'First-Party', scope: undefined }]
  ] as const) {
    const auth = await verify(token(server, key, claims))
    t.equal(auth.kind, 'third-party', name)
    t.equal(auth.firstParty, false, name)
  }
})

t.test('an ac_kind that is not a string is TOKEN_INVALID', async (t) => {
  const verify = verifierFor(t, server)
  await t.rejects(verify(token(server, key, { ac_kind: true })), { code: 'TOKEN_INVALID' })
  await t.rejects(verify(token(server, key, { ac_kind: ['first-party'] })), { code: 'TOKEN_INVALID' })
})

