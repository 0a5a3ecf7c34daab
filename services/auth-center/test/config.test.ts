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
    [{ AUTH_ADMIN_TOKEN: 'short' }, 'AUTH_ADMIN_TOKEN']
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
