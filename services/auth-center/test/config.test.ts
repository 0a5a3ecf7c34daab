import t from 'tap'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { ConfigError, loadConfig } from '../src/config.js'

t.test('defaults are the seed\'s: access 120 s, refresh 15 days', async (t) => {
  const c = loadConfig({})
  t.equal(c.accessTtlMs, 120_000)
  t.equal(c.refreshTtlMs, 15 * 86_400_000)
  t.equal(c.port, 4000)
  t.equal(c.host, '127.0.0.1')
  t.equal(c.issuer, 'http://localhost:4000')
  t.equal(c.audience, 'authcenter')
  t.equal(c.signingAlg, 'EdDSA')
  t.equal(c.sms.sender, 'console')
  t.ok(Object.isFrozen(c))
})

t.test('lifetimes take seconds or units', async (t) => {
  t.equal(loadConfig({ ACCESS_TOKEN_TTL: '300' }).accessTtlMs, 300_000)
  t.equal(loadConfig({ ACCESS_TOKEN_TTL: '5m', REFRESH_TOKEN_TTL: '7d' }).refreshTtlMs, 7 * 86_400_000)
})

t.test('a bad value throws one line naming the variable', async (t) => {
  const bad: Array<[Record<string, string>, string]> = [
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ ACCESS_TOKEN_TTL: 'soon' }, 'ACCESS_TOKEN_TTL'],
    [{ AUTH_SIGNING_ALG: 'none' }, 'AUTH_SIGNING_ALG'],
    [{ REDIS_URL: 'localhost:6379' }, 'REDIS_URL'],
    [{ SMS_SENDER: 'webhook' }, 'SMS_WEBHOOK_URL'],
    [{ SMS_TEST_OTP: '13800000000=1' }, 'SMS_TEST_OTP'],
    [{ SMS_TEST_OTP: '+8613800000000:123456', NODE_ENV: 'production' }, 'SMS_TEST_OTP'],
    [{ AUTH_ADMIN_TOKEN: 'short' }, 'AUTH_ADMIN_TOKEN'],
    [{ NODE_ENV: 'production' }, 'SMS_SENDER'],
    [{ TRUST_PROXY: 'true' }, 'TRUST_PROXY'],
    [{ TRUST_PROXY: 'not-an-ip' }, 'TRUST_PROXY'],
    [{ TRUST_PROXY: '10.0.0.0/33' }, 'TRUST_PROXY'],
    [{ TRUST_PROXY: '0' }, 'TRUST_PROXY'],
    [{ SMS_ALLOWED_COUNTRIES: '86' }, 'SMS_ALLOWED_COUNTRIES'],
    [{ SMS_DAILY_LIMIT_GLOBAL: 'lots' }, 'SMS_DAILY_LIMIT_GLOBAL'],
    [{ PASSWORD_HASH_CONCURRENCY: '0' }, 'PASSWORD_HASH_CONCURRENCY']
  ]
  for (const [env, name] of bad) {
    let err: unknown
    try { loadConfig(env) } catch (e) { err = e }
    t.ok(err instanceof ConfigError, `${name}: a ConfigError`)
    t.match((err as Error).message, new RegExp(`^${name}: [^\n]+$`), `${name}: named, one line`)
  }
})

t.test('the server refuses to start on a bad value, with one line on stderr', async (t) => {
  const server = fileURLToPath(new URL('../src/server.ts', import.meta.url))
  const r = spawnSync(process.execPath, ['--import=tsx', server], { env: { ...process.env, PORT: 'nope' }, encoding: 'utf8', timeout: 20_000 })
  t.equal(r.status, 1)
  t.match(r.stderr.trim(), /^auth-center: PORT: /)
  t.equal(r.stderr.trim().split('\n').length, 1)
})

t.test('TRUST_PROXY takes a hop count or proxy addresses/CIDRs, never true', async (t) => {
  t.equal(loadConfig({}).trustProxy, false)
  t.equal(loadConfig({ TRUST_PROXY: 'false' }).trustProxy, false)
  t.equal(loadConfig({ TRUST_PROXY: '2' }).trustProxy, 2)
  t.strictSame(loadConfig({ TRUST_PROXY: '10.0.0.1, 10.1.0.0/16,fd00::/8,loopback' }).trustProxy, ['10.0.0.1', '10.1.0.0/16', 'fd00::/8', 'loopback'])
  t.throws(() => loadConfig({ TRUST_PROXY: 'true' }), /^TRUST_PROXY: true would trust any X-Forwarded-For/)
})

t.test('production refuses the console SMS sender; the webhook one starts', async (t) => {
  t.throws(() => loadConfig({ NODE_ENV: 'production', SMS_SENDER: 'console' }), /^SMS_SENDER: the console sender is refused when NODE_ENV=production/)
  t.equal(loadConfig({ NODE_ENV: 'production', SMS_SENDER: 'webhook', SMS_WEBHOOK_URL: 'https://sms.example/send' }).sms.sender, 'webhook')
})

t.test('SMS_ALLOWED_COUNTRIES is a list of calling codes, default +86, +852, +853', async (t) => {
  t.strictSame(loadConfig({}).sms.allowedCountries, ['+86', '+852', '+853'])
  t.strictSame(loadConfig({ SMS_ALLOWED_COUNTRIES: '+44, +1' }).sms.allowedCountries, ['+44', '+1'])
})
