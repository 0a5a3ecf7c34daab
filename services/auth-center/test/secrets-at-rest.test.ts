import t from 'tap'
import { spawnSync } from 'node:child_process'
import { createHmac, createPublicKey, randomBytes, scryptSync, type KeyObject } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'
import { createLocalJWKSet, jwtVerify, SignJWT, type JSONWebKeySet } from 'jose'
import { startRedis } from '@authcenter/testkit'
import { KEYS_FILE } from '../src/keys/file-key-store.js'
import { generateKek, parseKek } from '../src/keys/kek.js'
import type { KeySet } from '../src/keys/key-set.js'
import { keySetCodec } from '../src/keys/sealed-key-set.js'
import { formatRefreshToken, parseRefreshToken } from '../src/tokens/refresh-token.js'
import { candidates, dumpDir, dumpRedis, offlineDigests, privateKeysIn, type Candidates } from './helpers/store-dump.js'
import { startAuthCenter, TEST_MOBILE, TEST_OTP, type RunningAuthCenter } from './helpers/auth-center.js'

const MOBILE_IN = '+8613900000001'
const MOBILE_PENDING = '+8613900000002'
const WEAK_PASSWORD = 'password1'

/** Private keys among `keys` whose public half is in the JWKS, proven by a signature the JWKS verifies. */
async function signersFor (jwks: JSONWebKeySet, keys: KeyObject[]): Promise<string[]> {
  const kids: string[] = []
  const local = createLocalJWKSet(jwks)
  for (const key of keys) {
    const pub = createPublicKey(key).export({ format: 'jwk' })
    const match = jwks.keys.find((j) => j.kty === pub.kty && j.x === pub.x && j.y === pub.y && j.n === pub.n)
    if (match === undefined) continue
    const jwt = await new SignJWT({ sub: 'forged' })
      .setProtectedHeader({ alg: match.alg!, kid: match.kid!, typ: 'at+jwt' })
      .setIssuedAt().setExpirationTime('1h').sign(key)
    await jwtVerify(jwt, local)
    kids.push(match.kid!)
  }
  return [...new Set(kids)].sort()
}

/** Refresh tokens for session `sid` computable from the candidates: every key x every value of the session record as the nonce. */
function forgedRefreshTokens (c: Candidates, sid: string, gen: number, sessionValues: string[]): Set<string> {
  const out = new Set<string>()
  for (const key of c.buffers) for (const nonce of sessionValues) out.add(formatRefreshToken(key, sid, gen, nonce))
  return out
}

t.test('a dump of the redis-server and the data directory cannot sign, refresh or check an SMS code offline', async (t) => {
  const redis = await startRedis()
  t.teardown(() => redis.close())
  const dataDir = await mkdtemp(join(tmpdir(), 'authcenter-dump-'))
  t.teardown(() => rm(dataDir, { recursive: true, force: true }))
  const kekValue = generateKek()
  const env = { REDIS_URL: redis.url, AUTH_KEK: kekValue }

  let ac: RunningAuthCenter | undefined = await startAuthCenter(env, { dataDir })
  t.teardown(async () => { await ac?.close() })

  // A user logged in by SMS (a session with a refresh token), another with a code sent but not used.
  t.equal((await ac.call('POST', '/auth/sms-code', { mobile: MOBILE_IN })).status, 202)
  const login = await ac.call('POST', '/auth/login', { mobile: MOBILE_IN, code: ac.sms.lastCode(MOBILE_IN) })
  t.equal(login.status, 200)
  const refreshToken: string = login.body.refresh_token
  t.equal((await ac.call('POST', '/auth/sms-code', { mobile: MOBILE_PENDING })).status, 202)
  const pendingCode = ac.sms.lastCode(MOBILE_PENDING)
  // A third user with a weak password (the fixed test code proves the number).
  const withPassword = (await ac.call('POST', '/auth/login', { mobile: TEST_MOBILE, code: TEST_OTP })).body
  t.equal((await ac.call('PUT', '/auth/password', { new_password: WEAK_PASSWORD, code: TEST_OTP }, { authorization: `Bearer ${withPassword.access_token}` })).status, 204)
  const jwks = (await ac.call('GET', '/.well-known/jwks.json')).body as JSONWebKeySet
  t.ok(jwks.keys.length >= 1)

  const fromRedis = await dumpRedis(redis.url)
  const fromDir = await dumpDir(dataDir)
  t.same(fromRedis.unknownTypes, [], 'every Redis type was read')
  t.ok(fromRedis.strings.includes('ac:keys'), 'the key set is in the dump')
  t.ok(fromDir.files.includes(KEYS_FILE), 'the key file is in the dump')
  const dump = [...fromRedis.strings, ...fromDir.strings]
  const c = candidates(dump)
  t.ok(c.buffers.length > 100, `${c.buffers.length} candidate keys, ${c.objects.length} JSON objects tried`)

  const parsed = parseRefreshToken(refreshToken)!
  const sessionKeys = fromRedis.strings.filter((s) => s.startsWith('ac:') && s.includes(parsed.sessionId))
  t.ok(sessionKeys.length > 0, 'the session is in the dump')
  const probe = new Redis(redis.url)
  t.teardown(() => probe.disconnect())
  const sessionValues: string[] = []
  for (const k of sessionKeys) if (await probe.type(k) === 'hash') sessionValues.push(...Object.values(await probe.hgetall(k)))

  // What the KEK opens: the positive control, proving each check below finds the secret when it is there.
  const kek = parseKek('AUTH_KEK', kekValue)
  const opened = keySetCodec({ current: kek, previous: [] }).decode((await probe.get('ac:keys'))!, 'ac:keys').set
  const withKek = candidates([...dump, JSON.stringify(opened)])

  await t.test('the MAC key the auth center uses is nowhere in the dump, in any encoding', async (t) => {
    const macKey = ac!.app.deps.keys.refreshMacKey
    t.equal(c.buffers.filter((b) => b.equals(macKey)).length, 0)
    t.equal(withKek.buffers.filter((b) => b.equals(macKey)).length, 1, 'with the KEK it is')
  })

  await t.test('no private key in the dump matches the JWKS', async (t) => {
    const keys = privateKeysIn(c)
    t.ok(keys.length > 0, `${keys.length} private keys built from the dump (raw 32-byte values read as Ed25519 seeds and P-256 scalars)`)
    t.same(await signersFor(jwks, keys), [], 'none signs a token the JWKS verifies')
    t.same(await signersFor(jwks, privateKeysIn(withKek)), jwks.keys.map((k) => k.kid).sort(), 'with the KEK, every published key is recovered')
  })

  await t.test('no refresh token for the session can be recomputed from the dump', async (t) => {
    t.notOk(dump.some((s) => s.includes(refreshToken) || s.includes(refreshToken.split('.')[2]!)), 'the token and its MAC are not stored')
    t.notOk(forgedRefreshTokens(c, parsed.sessionId, parsed.gen, sessionValues).has(refreshToken), 'no dump value as the MAC key gives the token')
    t.ok(forgedRefreshTokens(withKek, parsed.sessionId, parsed.gen, sessionValues).has(refreshToken), 'with the KEK, it does')
  })

  await t.test('no stored value lets the pending SMS code be checked offline', async (t) => {
    t.notOk(c.strings.has(pendingCode), 'the code is not stored')
    const messages = [pendingCode, `${MOBILE_PENDING}|${pendingCode}`, `${MOBILE_PENDING}${pendingCode}`, `sms1|${MOBILE_PENDING}|${pendingCode}`]
    const stored = c.strings
    const hits = (cand: Candidates): number => messages.filter((m) => [...offlineDigests(cand, m)].some((d) => stored.has(d))).length
    t.equal(hits(c), 0, 'no hash of the code, keyed by any dump value or unkeyed, is in the dump')
    t.equal(hits(withKek), 1, 'with the KEK, the stored code hash is checkable')
  })

  await t.test('the stored password hash cannot test a guess offline, even the right one', async (t) => {
    const stored = dump.filter((s) => s.startsWith('$scrypt$'))
    t.equal(stored.length, 1, 'one password hash in the dump')
    const [, , params, salt, hash] = stored[0]!.split('$')
    const p = Object.fromEntries(params!.split(',').map((kv) => kv.split('=')).map(([k, v]) => [k, Number(v)]))
    const guess = scryptSync(WEAK_PASSWORD, Buffer.from(salt!, 'base64url'), 32, { N: 2 ** p.ln!, r: p.r!, p: p.p!, maxmem: 256 * 1024 * 1024 })
    t.not(guess.toString('base64url'), hash, 'scrypt of the right password is not what is stored')
    // Every candidate as the pepper, and as the key it could be derived from.
    const peppers = (cand: Candidates): Buffer[] => cand.buffers.flatMap((b) => [b, createHmac('sha256', b).update('password-pepper-v1').digest()])
    const hits = (cand: Candidates): number => peppers(cand).filter((k) => createHmac('sha256', k).update(guess).digest('base64url') === hash).length
    t.equal(hits(c), 0, 'no dump value as the pepper makes the guess checkable')
    t.equal(hits(withKek), 1, 'with the KEK, it is')
  })

  await t.test('the dump cannot refresh: the forged tokens are refused by the auth center', async (t) => {
    // A sample of what the dump can compute, sent to the real endpoint.
    const sample = [...forgedRefreshTokens(c, parsed.sessionId, parsed.gen, sessionValues)].slice(0, 3)
    for (const token of sample) t.equal((await ac!.call('POST', '/auth/refresh', { refresh_token: token })).body.code, 'REFRESH_TOKEN_INVALID')
  })

  await ac.close()
  ac = undefined
  const storedBefore = await probe.get('ac:keys')
  const fileBefore = await readFile(join(dataDir, KEYS_FILE), 'utf8')

  await t.test('a wrong KEK stops the start with an error naming AUTH_KEK, and writes nothing', async (t) => {
    await t.rejects(startAuthCenter({ ...env, AUTH_KEK: generateKek() }, { dataDir }), { name: 'KekError', message: /^AUTH_KEK: / })
    await t.rejects(startAuthCenter({ REDIS_URL: redis.url }, { dataDir }), { name: 'KekError', message: /^AUTH_KEK: / }, 'no KEK (the development KEK) is wrong too')
    t.equal(await probe.get('ac:keys'), storedBefore, 'Redis keys untouched')
    t.equal(await readFile(join(dataDir, KEYS_FILE), 'utf8'), fileBefore, 'key file untouched')
  })

  await t.test('kek:rotate re-seals under a new KEK: tokens stay valid, the old KEK then opens nothing', async (t) => {
    const newKek = generateKek()
    const cli = fileURLToPath(new URL('../src/keys/kek-rotate-cli.ts', import.meta.url))
    const r = spawnSync(process.execPath, ['--import=tsx', cli], {
      env: { ...process.env, REDIS_URL: redis.url, AUTH_DATA_DIR: dataDir, AUTH_KEK: newKek, AUTH_KEK_PREVIOUS: kekValue },
      encoding: 'utf8',
      timeout: 30_000
    })
    t.equal(r.status, 0, r.stderr)
    const newId = parseKek('AUTH_KEK', newKek).id
    t.equal(r.stdout.split('\n').filter((l) => l.includes(`re-sealed, KEK ${kek.id} -> ${newId}`)).length, 2, 'Redis and the key file re-sealed')
    t.notOk(r.stdout.includes(newKek) || r.stdout.includes(kekValue), 'no KEK printed')
    t.equal(JSON.parse((await probe.get('ac:keys'))!).sealed.kek, newId)
    t.equal(JSON.parse(await readFile(join(dataDir, KEYS_FILE), 'utf8')).sealed.kek, newId)

    ac = await startAuthCenter({ ...env, AUTH_KEK: newKek }, { dataDir })
    const refreshed = await ac.call('POST', '/auth/refresh', { refresh_token: refreshToken })
    t.equal(refreshed.status, 200, 'the refresh token from before the rotation works')
    const jwksAfter = (await ac.call('GET', '/.well-known/jwks.json')).body as JSONWebKeySet
    t.ok((await jwtVerify(login.body.access_token, createLocalJWKSet(jwksAfter), { typ: 'at+jwt' })).payload.sub, 'an access token from before verifies against the JWKS')
    t.same(jwksAfter.keys.map((k) => k.kid).sort(), jwks.keys.map((k) => k.kid).sort(), 'same signing keys')
    await ac.close()
    ac = undefined

    await t.rejects(startAuthCenter(env, { dataDir }), { name: 'KekError', message: /^AUTH_KEK: / }, 'the old KEK is refused')
  })
})

t.test('keys from a version before sealing are sealed on first start, not replaced', async (t) => {
  const redis = await startRedis()
  t.teardown(() => redis.close())
  const dataDir = await mkdtemp(join(tmpdir(), 'authcenter-legacy-'))
  t.teardown(() => rm(dataDir, { recursive: true, force: true }))
  const kekValue = generateKek()

  // The earlier version: keys in clear in Redis and in the file mirror.
  const first = await startAuthCenter({ REDIS_URL: redis.url, AUTH_KEK: kekValue }, { dataDir })
  await first.call('POST', '/auth/sms-code', { mobile: MOBILE_IN })
  const login = (await first.call('POST', '/auth/login', { mobile: MOBILE_IN, code: first.sms.lastCode(MOBILE_IN) })).body
  await first.close()
  const probe = new Redis(redis.url)
  t.teardown(() => probe.disconnect())
  const kek = parseKek('AUTH_KEK', kekValue)
  const set: KeySet = keySetCodec({ current: kek, previous: [] }).decode((await probe.get('ac:keys'))!, 'ac:keys').set
  await probe.set('ac:keys', JSON.stringify(set))
  await writeFile(join(dataDir, KEYS_FILE), JSON.stringify(set))

  const ac = await startAuthCenter({ REDIS_URL: redis.url, AUTH_KEK: kekValue }, { dataDir })
  t.teardown(() => ac.close())
  t.equal((await ac.call('POST', '/auth/refresh', { refresh_token: login.refresh_token })).status, 200, 'the clear MAC key was kept: the session refreshes')
  const stored = JSON.parse((await probe.get('ac:keys'))!)
  t.same(Object.keys(stored).sort(), ['revision', 'sealed', 'version'], 'Redis now holds the sealed form only')
  t.equal(stored.sealed.kek, kek.id)
  const file = JSON.parse(await readFile(join(dataDir, KEYS_FILE), 'utf8'))
  t.same(Object.keys(file).sort(), ['revision', 'sealed', 'version'], 'so does the key file')
  t.notOk(JSON.stringify([stored, file]).includes(set.refreshMacKey), 'the MAC key is no longer readable')
})

t.test('with the memory store, the data directory alone cannot sign either', async (t) => {
  const ac = await startAuthCenter({ AUTH_KEK: generateKek() })
  t.teardown(() => ac.close())
  const jwks = (await ac.call('GET', '/.well-known/jwks.json')).body as JSONWebKeySet
  const fromDir = await dumpDir(ac.dataDir)
  t.same(fromDir.files, [KEYS_FILE], 'only the sealed key file')
  const c = candidates(fromDir.strings)
  t.same(await signersFor(jwks, privateKeysIn(c)), [], 'no key signs a token the JWKS verifies')
  t.equal(c.buffers.filter((b) => b.equals(ac.app.deps.keys.refreshMacKey)).length, 0, 'the MAC key is not in it')
})

t.test('a password hash stored unpeppered by an earlier version still logs in, and is peppered by that login', async (t) => {
  const ac = await startAuthCenter({ AUTH_KEK: generateKek() })
  t.teardown(() => ac.close())
  const user = (await ac.call('POST', '/auth/login', { mobile: TEST_MOBILE, code: TEST_OTP })).body.user
  const salt = randomBytes(16)
  const raw = scryptSync(WEAK_PASSWORD, salt, 32, { N: 2 ** 14, r: 8, p: 5, maxmem: 256 * 1024 * 1024 })
  const legacy = `$scrypt$ln=14,r=8,p=5$${salt.toString('base64url')}$${raw.toString('base64url')}`
  await ac.app.deps.store.setPassword(user.id, legacy, 1_000)
  t.equal((await ac.call('POST', '/auth/login', { mobile: TEST_MOBILE, password: WEAK_PASSWORD })).status, 200)
  const after = (await ac.app.deps.store.getUser(user.id))!
  t.equal(after.passwordHash, `$scrypt$ln=14,r=8,p=5$${salt.toString('base64url')}$${createHmac('sha256', ac.app.deps.keys.passwordPepper).update(raw).digest('base64url')}`, 'peppered in place')
  t.equal(after.passwordChangedAt, 1_000, 'not a password change')
  t.equal((await ac.call('POST', '/auth/login', { mobile: TEST_MOBILE, password: WEAK_PASSWORD })).status, 200, 'logs in with the peppered hash')
  t.equal((await ac.call('POST', '/auth/login', { mobile: TEST_MOBILE, password: 'password2' })).status, 401)
})
