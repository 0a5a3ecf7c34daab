// The refusal suites again, with every verifier following a live Redis
// revocation feed (nothing revoked): revocation must change no other answer.
import t from 'tap'
import { Redis } from 'ioredis'
import { startRedis } from '@authcenter/testkit'
import { verifierDefaults } from './helpers.js'

const redis = await startRedis()
t.teardown(() => redis.close())
// The epoch as the auth center creates it at its start, before any token.
const client = new Redis(redis.url)
await client.set('suite:epoch', `${Date.now() - 3_600_000}:suite`, 'NX')
await client.hset('suite:deny', 's:some-other-session', `${Date.now()}:${Date.now() + 130_000}`)
client.disconnect()

const silent = { info () {}, warn () {}, error () {} }
verifierDefaults.revocation = { redis: redis.url, prefix: 'suite:', logger: silent }

// Loaded inside a subtest, so the root test cannot end while a suite is still
// setting up (its subtests queue behind this one).
t.test('load the suites', async (t) => {
  await import('./security.test.js')
  await import('./advisories.test.js')
  await import('./verify.test.js')
  t.pass('loaded')
})

t.test('the suites above ran with the feed on', async (t) => {
  const { makeKey, startAuthServer, token, verifierFor } = await import('./helpers.js')
  const key = await makeKey()
  const server = await startAuthServer([key.jwk])
  t.teardown(() => server.close())
  const verify = verifierFor(t, server)
  await verify.ready()
  t.equal(verify.revocation?.fresh, true)
  t.equal(verify.revocation?.size, 1)
  t.ok(await verify(token(server, key)))
})
