import t from 'tap'
import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { startRedis } from '@authcenter/testkit'
import { createVerifier } from '@authcenter/verifier'
import { loadConfig } from '../../src/config.js'
import { publishAheadMs, scheduleKeySet } from '../../src/keys/key-schedule.js'
import { ID_TOKEN_TTL_MS, currentKey, newKeySet, rotateKeySet, signsFrom, type KeySet, type StoredKey } from '../../src/keys/key-set.js'
import { keyStores } from '../../src/keys/key-stores.js'
import { sleep, startAuthCenter, TEST_MOBILE, TEST_OTP } from '../helpers/auth-center.js'

const header = (jwt: string): { kid: string } => JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString())
const claims = (jwt: string): { iat: number, exp: number } => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString())
const access = (keys: StoredKey[]): StoredKey[] => keys.filter((k) => k.purpose === undefined)

t.test('the schedule, step by step: published ahead, signs one interval after the last, the old key retired with its tokens', async (t) => {
  const day = 86_400_000
  const schedule = { intervalMs: 30 * day, maxTokenLifetimeMs: 120_000 }
  const ahead = publishAheadMs(schedule.intervalMs)
  t.equal(ahead, 3_600_000, 'an hour ahead: beyond the verifiers\' 10-minute JWKS cache')
  const t0 = 1_000_000_000_000
  let set: KeySet = newKeySet('EdDSA', t0)
  const first = currentKey(set, t0)

  t.equal(scheduleKeySet(set, 'EdDSA', t0 + 29 * day, schedule), null, 'nothing due on day 29')
  const due = t0 + 30 * day
  const published = scheduleKeySet(set, 'EdDSA', due - ahead - 1000, schedule)
  t.not(published, null, 'published a little more than the lead before it is due')
  set = published!
  t.equal(set.keys.length, 4, 'a new access-token key and a new ID-token key beside the current ones')
  const next = access(set.keys).find((k) => k.kid !== first.kid)!
  t.equal(signsFrom(next), due, 'signs exactly one interval after the current key started')
  t.equal(set.keys.filter((k) => k.purpose === 'id_token' && signsFrom(k) === due).length, 1, 'the ID-token key rotates with it')
  t.equal(scheduleKeySet(set, 'EdDSA', due - 1, schedule), null, 'one key per interval: nothing more before it signs')
  t.equal(currentKey(set, due - 1).kid, first.kid, 'the current key signs until then')
  t.equal(currentKey(set, due).kid, next.kid, 'and the new one from then on')

  set = scheduleKeySet(set, 'EdDSA', due + 5000, schedule)!
  const old = set.keys.find((k) => k.kid === first.kid)!
  t.equal(old.retiredAt, due, 'retired from the moment its successor took over')
  t.equal(old.publishUntil, due + Math.max(schedule.maxTokenLifetimeMs, ID_TOKEN_TTL_MS), 'published until its last token has expired')
  t.equal(scheduleKeySet(set, 'EdDSA', due + 5000, schedule), null, 'each step once')

  // keys:rotate still works, and drops a key published ahead that never signed.
  const ahead2 = scheduleKeySet(set, 'EdDSA', due + 30 * day - ahead, schedule)!
  const manual = rotateKeySet(ahead2, 'EdDSA', due + 30 * day - ahead + 1, 120_000)
  t.equal(manual.keys.filter((k) => signsFrom(k) > due + 30 * day - ahead + 1).length, 0, 'no key left waiting for its turn')
  t.equal(currentKey(manual, due + 30 * day - ahead + 1).createdAt, due + 30 * day - ahead + 1, 'the manual key signs at once')
})

t.test('two replicas on one Redis rotate on one schedule: one new key per interval, in both JWKS before it signs, old tokens verify', async (t) => {
  const redis = await startRedis()
  t.teardown(() => redis.close())
  // Long enough that a loaded machine still looks at every key between two rotations (the lead is 2.5 s).
  const intervalMs = 5000
  const ahead = publishAheadMs(intervalMs)
  const kek = randomBytes(32).toString('base64url')
  const env = { REDIS_URL: redis.url, AUTH_KEK: kek, AUTH_KEY_ROTATION_INTERVAL: '5s', ACCESS_TOKEN_TTL: '30s' }
  const a = await startAuthCenter(env)
  const b = await startAuthCenter(env).catch(async (err: unknown) => { await a.close(); throw err })
  const replicas = [a, b]
  let closed = false
  const closeReplicas = async (): Promise<void> => { if (!closed) { closed = true; await Promise.all(replicas.map(async (r) => await r.close())) } }
  t.teardown(closeReplicas)

  // The store itself, opened as keys:rotate does.
  const client = new Redis(redis.url, { maxRetriesPerRequest: 1 })
  t.teardown(() => client.disconnect())
  const { store } = await keyStores(loadConfig({ AUTH_DATA_DIR: a.dataDir, AUTH_KEK: kek, REDIS_URL: redis.url }), client)

  const login = (await a.call('POST', '/auth/login', { mobile: TEST_MOBILE, code: TEST_OTP })).body
  const before: string = login.access_token
  let refreshToken: string = login.refresh_token

  // Per replica and kid: when its JWKS was first seen serving the kid (answer received).
  const seen = replicas.map(() => new Map<string, number>())
  // Every access token, with when its request left and when its answer came.
  const tokens: Array<{ kid: string, sentAt: number, doneAt: number }> = []
  const signingKids = (): string[] => [...new Set(tokens.map((x) => x.kid))]
  for (let i = 0; signingKids().length < 3 && i < 400; i++) {
    for (const [r, ac] of replicas.entries()) {
      const jwks = (await ac.call('GET', '/.well-known/jwks.json')).body.keys as Array<{ kid: string, alg: string }>
      const at = Date.now()
      for (const k of jwks) if (k.alg === 'EdDSA' && !seen[r]!.has(k.kid)) seen[r]!.set(k.kid, at)
    }
    const sentAt = Date.now()
    const res = await replicas[i % 2]!.call('POST', '/auth/refresh', { refresh_token: refreshToken })
    t.equal(res.status, 200, 'refresh')
    refreshToken = res.body.refresh_token
    tokens.push({ kid: header(res.body.access_token).kid, sentAt, doneAt: Date.now() })
    await sleep(100)
  }
  const kids = signingKids()
  t.equal(kids.length, 3, 'two rotations observed')
  t.equal(kids[0], header(before).kid)
  const verify = createVerifier({ issuer: 'http://auth.test', audience: 'authcenter', jwksUri: `${b.url}/.well-known/jwks.json`, cooldownDuration: 0 })
  t.teardown(() => verify.close())
  t.equal((await verify(before)).sub, login.user.id, 'a token signed before two rotations still verifies')

  // Stop the schedule, then read what it wrote.
  await closeReplicas()
  const closedAt = Date.now()
  const set = (await store.load())!
  const stored = access(set.keys)
  const storedIds = new Set(stored.map((k) => k.kid))
  // From the key that signed the first token on (a loaded machine may start the replicas more than an interval apart).
  const from = signsFrom(stored.find((k) => k.kid === kids[0])!)
  t.same(stored.filter((k) => signsFrom(k) >= from && signsFrom(k) <= closedAt).map((k) => k.kid), kids, 'the keys that signed are exactly the three the tokens show, in order')
  for (const kid of kids.slice(1)) {
    const key = stored.find((k) => k.kid === kid)!
    t.equal(signsFrom(key) - key.createdAt >= ahead, true, `${kid}: in the store ${ahead} ms or more before it signs`)
    const first = tokens.find((x) => x.kid === kid)!
    for (const [r] of replicas.entries()) {
      t.equal((seen[r]!.get(kid) ?? Infinity) < first.sentAt, true, `${kid}: replica ${r === 0 ? 'A' : 'B'} served it in its JWKS before a token was signed with it`)
    }
    // The answer, not iat: a request may take its iat a moment before the key's turn and be signed just after it.
    t.equal(tokens.filter((x) => x.kid === kid).every((x) => x.doneAt >= signsFrom(key)), true, `${kid}: no token signed with it before its time`)
  }
  // Once a key signs, the one before never signs again (at either replica).
  t.same(tokens.map((x) => kids.indexOf(x.kid)), [...tokens.map((x) => kids.indexOf(x.kid))].sort((x, y) => x - y), 'kids follow one another')

  // One schedule for both: every kid either JWKS served is in the one stored set, and the keys start an interval apart or more.
  const everSeen = [...seen[0]!.keys(), ...seen[1]!.keys()]
  t.same(everSeen.filter((kid) => !storedIds.has(kid)), [], 'both replicas published only the keys of the one stored set')
  const starts = stored.map(signsFrom).sort((x, y) => x - y)
  for (let i = 1; i < starts.length; i++) t.equal(starts[i]! - starts[i - 1]! >= intervalMs, true, `key ${i} starts an interval or more after the one before: one key per interval, not one per replica`)
  t.same(set.keys.filter((k) => k.purpose === 'id_token').map(signsFrom).sort((x, y) => x - y), starts, 'the RS256 ID-token key rotates on the same schedule')

  // The first key is retired and still published until the token signed with it has expired.
  const firstKey = set.keys.find((k) => k.kid === kids[0])!
  t.equal(firstKey.retiredAt, signsFrom(stored.find((k) => k.kid === kids[1])!), 'the first key retired when the second took over')
  t.equal(firstKey.publishUntil! >= claims(before).exp * 1000, true, 'kept until its last token has expired')
})

t.test('AUTH_KEY_ROTATION_INTERVAL: a duration, 0 turns it off, 30 days by default', async (t) => {
  t.equal(loadConfig({}).keyRotationIntervalMs, 30 * 86_400_000)
  t.equal(loadConfig({ AUTH_KEY_ROTATION_INTERVAL: '0' }).keyRotationIntervalMs, 0)
  t.equal(loadConfig({ AUTH_KEY_ROTATION_INTERVAL: '12h' }).keyRotationIntervalMs, 12 * 3_600_000)
  t.throws(() => loadConfig({ AUTH_KEY_ROTATION_INTERVAL: 'monthly' }), /AUTH_KEY_ROTATION_INTERVAL/)

  // 0 is off, not an interval of nothing (which would rotate at every look, a tenth of a second apart).
  const ac = await startAuthCenter({ AUTH_KEY_ROTATION_INTERVAL: '0' })
  t.teardown(() => ac.close())
  const kids = async (): Promise<string[]> => (await ac.call('GET', '/.well-known/jwks.json')).body.keys.map((k: { kid: string }) => k.kid)
  const start = await kids()
  t.equal(start.length, 2, 'the access-token key and the ID-token key')
  await sleep(1000)
  t.same(await kids(), start, 'off: nothing published ahead, nothing rotated')
})
