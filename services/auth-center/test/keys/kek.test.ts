import t from 'tap'
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'
import { startRedis } from '@authcenter/testkit'
import { ConfigError, loadConfig } from '../../src/config.js'
import { KEYS_FILE } from '../../src/keys/file-key-store.js'
import { DEV_KEK, generateKek, KekError, kekIdOf, LEGACY_DEV_KEK_FILE, parseKek } from '../../src/keys/kek.js'
import { seal, unseal } from '../../src/keys/seal.js'
import { keyStores } from '../../src/keys/key-stores.js'
import { sleep, startAuthCenter, TEST_MOBILE, TEST_OTP } from '../helpers/auth-center.js'

const server = fileURLToPath(new URL('../../src/server.ts', import.meta.url))
function runServer (env: Record<string, string>): { status: number | null, stderr: string } {
  const r = spawnSync(process.execPath, ['--import=tsx', server], { env: { ...process.env, PORT: '0', ...env }, encoding: 'utf8', timeout: 30_000 })
  return { status: r.status, stderr: r.stderr.trim() }
}

t.test('AUTH_KEK: 32 bytes in base64url or base64, with or without an id', async (t) => {
  const raw = randomBytes(32)
  const plain = parseKek('AUTH_KEK', raw.toString('base64url'))
  t.same(plain.key, raw)
  t.equal(plain.id, kekIdOf(raw), 'id derived from the key')
  t.same(parseKek('AUTH_KEK', raw.toString('base64')).key, raw, 'standard base64 (openssl rand -base64 32) too')
  const named = parseKek('AUTH_KEK', `2026-12:${raw.toString('base64url')}`)
  t.equal(named.id, '2026-12')
  t.same(named.key, raw)
  t.notOk(JSON.stringify(plain).includes(raw.toString('base64url')), 'the key is not serialised with the id')
  t.equal(generateKek().length, 43)
})

t.test('a bad AUTH_KEK is one line naming the variable, without repeating the value', async (t) => {
  const secretish = randomBytes(16).toString('base64url')
  const bad: Array<[Record<string, string>, string]> = [
    [{ AUTH_KEK: secretish }, 'AUTH_KEK'],
    [{ AUTH_KEK: `a b:${randomBytes(32).toString('base64url')}` }, 'AUTH_KEK'],
    [{ AUTH_KEK: generateKek(), AUTH_KEK_PREVIOUS: `${generateKek()},${secretish}` }, 'AUTH_KEK_PREVIOUS'],
    [{ NODE_ENV: 'production', REDIS_URL: 'redis://127.0.0.1:1', SMS_SENDER: 'webhook', SMS_WEBHOOK_URL: 'https://sms.test/send' }, 'AUTH_KEK'],
    [{ NODE_ENV: 'production', DATABASE_URL: 'postgres://127.0.0.1/ac', SMS_SENDER: 'webhook', SMS_WEBHOOK_URL: 'https://sms.test/send' }, 'AUTH_KEK']
  ]
  for (const [env, name] of bad) {
    let err: unknown
    try { loadConfig(env) } catch (e) { err = e }
    t.ok(err instanceof ConfigError, `${name}: a ConfigError`)
    t.match((err as Error).message, new RegExp(`^${name}: [^\n]+$`), `${name}: named, one line`)
    t.notOk((err as Error).message.includes(secretish), `${name}: the value is not repeated`)
  }
  const production = { NODE_ENV: 'production', SMS_SENDER: 'webhook', SMS_WEBHOOK_URL: 'https://sms.test/send' }
  t.ok(loadConfig({ ...production, REDIS_URL: 'redis://127.0.0.1:1', AUTH_KEK: generateKek() }).kek, 'production with Redis and a KEK starts')
  t.equal(loadConfig(production).kek, undefined, 'production without a shared store may run on the development KEK')
})

t.test('the server refuses production with Redis and no AUTH_KEK, with one line on stderr', async (t) => {
  const r = runServer({ NODE_ENV: 'production', REDIS_URL: 'redis://127.0.0.1:1', SMS_SENDER: 'webhook', SMS_WEBHOOK_URL: 'https://sms.test/send', AUTH_KEK: '' })
  t.equal(r.status, 1)
  t.match(r.stderr, /^auth-center: AUTH_KEK: required when NODE_ENV=production/)
  t.equal(r.stderr.split('\n').length, 1)
})

t.test('a sealed blob opens only for its purpose, its KEK id and unaltered', async (t) => {
  const kek = parseKek('AUTH_KEK', generateKek())
  const ring = { current: kek, previous: [] }
  const blob = seal(kek, 'key-set@1', Buffer.from('secret'))
  t.equal(unseal(ring, 'key-set@1', blob, 'here').toString(), 'secret')
  t.throws(() => unseal(ring, 'key-set@2', blob, 'here'), { name: 'KekError', message: /^AUTH_KEK: here does not open/ }, 'moved to another purpose')
  const flipped = Buffer.from(blob.ct, 'base64url')
  flipped[0]! ^= 1
  t.throws(() => unseal(ring, 'key-set@1', { ...blob, ct: flipped.toString('base64url') }, 'here'), KekError, 'altered')
  const sameKeyOtherId = parseKek('AUTH_KEK', `other:${kek.key.toString('base64url')}`)
  t.throws(() => unseal({ current: sameKeyOtherId, previous: [] }, 'key-set@1', { ...blob, kek: 'other' }, 'here'), KekError, 'relabelled with another KEK id')
  const newer = parseKek('AUTH_KEK', generateKek())
  t.throws(() => unseal({ current: newer, previous: [] }, 'key-set@1', blob, 'here'), { message: new RegExp(`^AUTH_KEK: here is sealed with KEK "${kek.id}"`) }, 'unknown KEK named by id')
  t.equal(unseal({ current: newer, previous: [kek] }, 'key-set@1', blob, 'here').toString(), 'secret', 'a previous KEK still reads')
})

t.test('without AUTH_KEK, keys are sealed with the published development KEK, with a warning; AUTH_KEK_PREVIOUS=dev moves them to a real KEK', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'authcenter-devkek-'))
  t.teardown(() => rm(dataDir, { recursive: true, force: true }))
  const first = await startAuthCenter({}, { dataDir })
  const kid = (await first.call('GET', '/.well-known/jwks.json')).body.keys[0].kid
  t.equal(first.logs.filter((l) => l.includes('AUTH_KEK is not set')).length, 1, 'one warning')
  await first.close()
  const stored = JSON.parse(await readFile(join(dataDir, KEYS_FILE), 'utf8'))
  t.equal(stored.sealed.kek, DEV_KEK.id, 'sealed with the development KEK')

  const second = await startAuthCenter({}, { dataDir })
  t.equal((await second.call('GET', '/.well-known/jwks.json')).body.keys[0].kid, kid, 'same keys after a restart')
  await second.close()

  const real = parseKek('AUTH_KEK', generateKek())
  const config = loadConfig({ AUTH_DATA_DIR: dataDir, AUTH_KEK: `${real.id}:${real.key.toString('base64url')}`, AUTH_KEK_PREVIOUS: 'dev' })
  const { store } = await keyStores(config)
  t.equal(await store.reseal(), 'dev', 'what kek:rotate does')
  await t.rejects(startAuthCenter({}, { dataDir }), { name: 'KekError' }, 'the development KEK opens nothing now')
  const third = await startAuthCenter({ AUTH_KEK: `${real.id}:${real.key.toString('base64url')}` }, { dataDir })
  t.teardown(() => third.close())
  t.equal((await third.call('GET', '/.well-known/jwks.json')).body.keys[0].kid, kid, 'same keys under the real KEK')
})

t.test('a dev-kek file an earlier development version generated is still read', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'authcenter-legacydev-'))
  t.teardown(() => rm(dataDir, { recursive: true, force: true }))
  const legacy = generateKek()
  const first = await startAuthCenter({ AUTH_KEK: legacy }, { dataDir })
  const kid = (await first.call('GET', '/.well-known/jwks.json')).body.keys[0].kid
  await first.close()
  await writeFile(join(dataDir, LEGACY_DEV_KEK_FILE), legacy + '\n', { mode: 0o600 })
  const ac = await startAuthCenter({}, { dataDir })
  t.teardown(() => ac.close())
  t.equal((await ac.call('GET', '/.well-known/jwks.json')).body.keys[0].kid, kid)
})

t.test('the server refuses a wrong AUTH_KEK with one line on stderr and leaves the keys as they were', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'authcenter-wrongkek-'))
  t.teardown(() => rm(dataDir, { recursive: true, force: true }))
  const ac = await startAuthCenter({ AUTH_KEK: generateKek() }, { dataDir })
  await ac.close()
  const before = await readFile(join(dataDir, KEYS_FILE), 'utf8')
  const r = runServer({ AUTH_DATA_DIR: dataDir, AUTH_KEK: generateKek() })
  t.equal(r.status, 1)
  t.match(r.stderr, new RegExp(`^auth-center: AUTH_KEK: ${join(dataDir, KEYS_FILE).replace(/[/.]/g, '\\$&')} is sealed with KEK "`))
  t.equal(r.stderr.split('\n').length, 1)
  t.equal(await readFile(join(dataDir, KEYS_FILE), 'utf8'), before, 'key file untouched')
})

t.test('keys re-sealed under a KEK a running replica lacks: it warns and keeps signing with the keys it has', async (t) => {
  const kekA = generateKek()
  const ac = await startAuthCenter({ AUTH_KEK: kekA })
  t.teardown(() => ac.close())
  const { store } = await keyStores({ dataDir: ac.dataDir, kek: parseKek('AUTH_KEK', generateKek()), kekPrevious: [parseKek('AUTH_KEK_PREVIOUS', kekA)] })
  t.equal(await store.reseal(), parseKek('AUTH_KEK', kekA).id)
  await t.rejects(ac.app.deps.keys.reload(), { name: 'KekError' })
  // The periodic reload (every 5 s) reports the same failure in the log.
  for (let i = 0; i < 60 && !ac.logs.some((l) => l.includes('reloading the signing keys failed')); i++) await sleep(250)
  t.ok(ac.logs.some((l) => l.includes('reloading the signing keys failed')), 'warned')
  t.notOk(ac.logs.some((l) => l.includes(kekA)), 'the KEK is never logged')
  t.equal((await ac.call('POST', '/auth/login', { mobile: TEST_MOBILE, code: TEST_OTP })).status, 200, 'still signs')
})

t.test('a replica whose own mirror file is still sealed under the retired KEK starts on the re-sealed Redis copy and refreshes its mirror', async (t) => {
  const redis = await startRedis()
  t.teardown(() => redis.close())
  const dataDir = await mkdtemp(join(tmpdir(), 'authcenter-mirror-'))
  t.teardown(() => rm(dataDir, { recursive: true, force: true }))
  const oldKek = generateKek()
  const newKek = parseKek('AUTH_KEK', generateKek())
  const first = await startAuthCenter({ REDIS_URL: redis.url, AUTH_KEK: oldKek }, { dataDir })
  const kids = (await first.call('GET', '/.well-known/jwks.json')).body.keys.map((k: { kid: string }) => k.kid)
  await first.close()

  // kek:rotate ran on another host: Redis is re-sealed, this host's data directory is not.
  const client = new Redis(redis.url)
  t.teardown(() => client.disconnect())
  const otherHost = await mkdtemp(join(tmpdir(), 'authcenter-otherhost-'))
  t.teardown(() => rm(otherHost, { recursive: true, force: true }))
  const { store } = await keyStores({ dataDir: otherHost, kek: newKek, kekPrevious: [parseKek('AUTH_KEK_PREVIOUS', oldKek)] }, client)
  t.equal(await store.reseal(), parseKek('AUTH_KEK', oldKek).id)

  const ac = await startAuthCenter({ REDIS_URL: redis.url, AUTH_KEK: `${newKek.id}:${newKek.key.toString('base64url')}` }, { dataDir })
  t.teardown(() => ac.close())
  t.same((await ac.call('GET', '/.well-known/jwks.json')).body.keys.map((k: { kid: string }) => k.kid), kids, 'same keys')
  t.equal(JSON.parse(await readFile(join(dataDir, KEYS_FILE), 'utf8')).sealed.kek, newKek.id, 'the mirror is sealed under the new KEK now')
})
