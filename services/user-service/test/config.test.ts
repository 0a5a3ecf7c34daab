import t from 'tap'
import { loadConfig, parseSize } from '../src/config.js'

t.test('defaults', async (t) => {
  const c = loadConfig({})
  t.same(c, {
    host: '127.0.0.1',
    port: 4001,
    authIssuer: 'http://localhost:4000',
    authAudience: 'authcenter',
    authJwksUri: undefined,
    databaseUrl: undefined,
    redisUrl: undefined,
    revocation: { clientId: 'dev-revocations', clientSecret: 'dev-revocations-secret-not-for-production' },
    avatarDir: './.data/avatars',
    avatarMaxBytes: 2097152,
    logLevel: 'info',
    production: false,
    metricsPublic: false,
    shutdownDelayMs: 0,
    shutdownTimeoutMs: 10000
  })
  t.ok(Object.isFrozen(c), 'frozen')
})

t.test('reads every variable', async (t) => {
  const c = loadConfig({
    HOST: '0.0.0.0',
    PORT: '8080',
    AUTH_ISSUER: 'https://auth.example.com',
    AUTH_AUDIENCE: 'shop',
    AUTH_JWKS_URI: 'https://auth.example.com/jwks.json',
    REDIS_URL: 'redis://cache:6379/1',
    AVATAR_DIR: '/var/avatars',
    AVATAR_MAX_BYTES: '512KiB',
    LOG_LEVEL: 'debug'
  })
  t.match(c, {
    host: '0.0.0.0',
    port: 8080,
    authIssuer: 'https://auth.example.com',
    authAudience: 'shop',
    authJwksUri: 'https://auth.example.com/jwks.json',
    redisUrl: 'redis://cache:6379/1',
    revocation: { clientId: 'dev-revocations' },
    avatarDir: '/var/avatars',
    avatarMaxBytes: 524288,
    logLevel: 'debug'
  })
  t.same(loadConfig({ REDIS_URL: 'redis://a', REVOCATION_REDIS_URL: 'rediss://b' }).revocation, { redisUrl: 'rediss://b' }, 'REVOCATION_REDIS_URL: the ACL user; REDIS_URL (profiles) is never used for the feed')
  t.same(loadConfig({ REVOCATION_CLIENT_ID: 'orders', REVOCATION_CLIENT_SECRET: 's3cret' }).revocation, { clientId: 'orders', clientSecret: 's3cret' })
  t.equal(loadConfig({ PORT: '' }).port, 4001, 'an empty value counts as unset')
})

t.test('production: a missing revocation feed credential is a one-line start-up error naming the variable', async (t) => {
  t.throws(() => loadConfig({ NODE_ENV: 'production', REVOCATION_CLIENT_SECRET: 's' }), { message: /^invalid environment: REVOCATION_CLIENT_ID is required when NODE_ENV=production/ })
  t.throws(() => loadConfig({ NODE_ENV: 'production', REVOCATION_CLIENT_ID: 'orders' }), { message: /^invalid environment: REVOCATION_CLIENT_SECRET is required when NODE_ENV=production/ })
  t.throws(() => loadConfig({ NODE_ENV: 'production' }), { message: /REVOCATION_CLIENT_ID/ }, 'no development default in production')
  t.same(loadConfig({ NODE_ENV: 'production', REVOCATION_CLIENT_ID: 'orders', REVOCATION_CLIENT_SECRET: 's' }).revocation, { clientId: 'orders', clientSecret: 's' })
  t.same(loadConfig({ NODE_ENV: 'production', REVOCATION_REDIS_URL: 'rediss://reader:pw@redis' }).revocation, { redisUrl: 'rediss://reader:pw@redis' })
})

t.test('AVATAR_MAX_BYTES takes bytes or a unit', async (t) => {
  const cases: Array<[string, number]> = [
    ['2097152', 2097152], ['2MiB', 2097152], ['512KiB', 524288], ['512kib', 524288], ['1MB', 1_000_000],
    ['100kB', 100_000], ['2M', 2097152], ['64K', 65536], ['1.5MiB', 1572864], ['10B', 10], [' 3 KiB ', 3072]
  ]
  for (const [text, bytes] of cases) t.equal(loadConfig({ AVATAR_MAX_BYTES: text }).avatarMaxBytes, bytes, text)
  t.equal(parseSize('2 parsecs'), undefined)
})

t.test('a bad value throws one line naming the variable', async (t) => {
  const bad: Array<[string, string]> = [
    ['PORT', 'http'],
    ['PORT', '70000'],
    ['PORT', '-1'],
    ['AUTH_ISSUER', 'localhost:4000'],
    ['AUTH_JWKS_URI', 'file:///etc/jwks.json'],
    ['REDIS_URL', 'localhost:6379'],
    ['REVOCATION_REDIS_URL', 'http://x'],
    ['AVATAR_MAX_BYTES', '2 parsecs'],
    ['AVATAR_MAX_BYTES', '0'],
    ['AVATAR_MAX_BYTES', '2TiB'],
    ['AVATAR_MAX_BYTES', '-5'],
    ['LOG_LEVEL', 'loud']
  ]
  for (const [name, value] of bad) {
    t.test(`${name}=${value}`, async (t) => {
      let error: Error | undefined
      try {
        loadConfig({ [name]: value })
      } catch (err) {
        error = err as Error
      }
      t.ok(error instanceof Error, 'throws')
      t.match(error?.message, new RegExp(`\\b${name}\\b`))
      t.notMatch(error?.message, /\n/, 'one line')
    })
  }
})
