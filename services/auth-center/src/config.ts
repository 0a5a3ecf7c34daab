import { Type, type Static } from '@sinclair/typebox'
import { Value, type ValueError } from '@sinclair/typebox/value'
import { isIP } from 'node:net'
import { parseDuration } from './duration.js'
import { KekError, parseKek, parseKeks, type Kek } from './keys/kek.js'
import { RedisTargetError, parseRedisTarget, type RedisTarget } from './store/redis-target.js'

/**
 * Environment variables, validated once at start and frozen. A bad value stops the
 * process with one line naming the variable (ConfigError.message).
 */
const EnvSchema = Type.Object({
  HOST: Type.String({ default: '127.0.0.1', minLength: 1 }),
  PORT: Type.String({ default: '4000', pattern: '^\\d{1,5}$' }),
  NODE_ENV: Type.Optional(Type.String()),
  LOG_LEVEL: Type.Union([
    Type.Literal('fatal'), Type.Literal('error'), Type.Literal('warn'), Type.Literal('info'),
    Type.Literal('debug'), Type.Literal('trace'), Type.Literal('silent')
  ], { default: 'info' }),
  REDIS_URL: Type.Optional(Type.String({ pattern: '^(rediss?|redis\\+sentinel)://' })),
  // Checked below (store/redis-target.ts), with messages naming the bad entry.
  REDIS_CLUSTER_NODES: Type.Optional(Type.String()),
  REDIS_SENTINELS: Type.Optional(Type.String()),
  REDIS_SENTINEL_MASTER: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' })),
  // Checked there too; no pattern here, whose message would repeat the value (a password).
  REDIS_USERNAME: Type.Optional(Type.String()),
  REDIS_PASSWORD: Type.Optional(Type.String()),
  REDIS_SENTINEL_USERNAME: Type.Optional(Type.String()),
  REDIS_SENTINEL_PASSWORD: Type.Optional(Type.String()),
  REDIS_TLS: Type.Optional(Type.String()),
  // Checked below, with a message that never repeats the URL (it may hold a password).
  DATABASE_URL: Type.Optional(Type.String()),
  DATABASE_POOL_MAX: Type.String({ default: '10', pattern: '^[1-9]\\d{0,2}$' }),
  AUTH_ISSUER: Type.String({ default: 'http://localhost:4000', pattern: '^https?://[^\\s?#]+$' }),
  AUTH_AUDIENCE: Type.String({ default: 'authcenter', minLength: 1 }),
  AUTH_DATA_DIR: Type.String({ default: './.data', minLength: 1 }),
  AUTH_SIGNING_ALG: Type.Union([
    Type.Literal('EdDSA'), Type.Literal('ES256'), Type.Literal('RS256'), Type.Literal('HS256')
  ], { default: 'EdDSA' }),
  ACCESS_TOKEN_TTL: Type.String({ default: '2m' }),
  REFRESH_TOKEN_TTL: Type.String({ default: '15d' }),
  REFRESH_GRACE: Type.String({ default: '10s' }),
  AUTH_KEY_ROTATION_INTERVAL: Type.String({ default: '30d' }),
  SMS_SENDER: Type.Union([Type.Literal('console'), Type.Literal('webhook')], { default: 'console' }),
  SMS_WEBHOOK_URL: Type.Optional(Type.String({ pattern: '^https?://' })),
  SMS_TEST_OTP: Type.Optional(Type.String()),
  SMS_RESEND_COOLDOWN: Type.String({ default: '60s' }),
  SMS_DAILY_LIMIT_MOBILE: Type.String({ default: '10', pattern: '^\\d+$' }),
  SMS_DAILY_LIMIT_IP: Type.String({ default: '50', pattern: '^\\d+$' }),
  SMS_DAILY_LIMIT_IP_MOBILE: Type.String({ default: '5', pattern: '^\\d+$' }),
  SMS_DAILY_LIMIT_GLOBAL: Type.String({ default: '10000', pattern: '^\\d+$' }),
  SMS_ALLOWED_COUNTRIES: Type.String({ default: '+86,+852,+853', pattern: '^\\+[1-9]\\d{0,2}(,\\s*\\+[1-9]\\d{0,2})*$' }),
  PASSWORD_HASH_CONCURRENCY: Type.String({ default: '2', pattern: '^[1-9]\\d?$' }),
  PASSWORD_HASH_QUEUE: Type.String({ default: '16', pattern: '^\\d{1,4}$' }),
  AUTH_ADMIN_TOKEN: Type.Optional(Type.String({ minLength: 16 })),
  AUTH_CLIENTS_FILE: Type.Optional(Type.String({ minLength: 1 })),
  MAX_SESSIONS: Type.String({ default: '0', pattern: '^\\d{1,4}$' }),
  TRUST_PROXY: Type.Optional(Type.String()),
  // Checked by keys/kek.ts, whose messages never repeat the value (a schema error here would).
  AUTH_KEK: Type.Optional(Type.String()),
  AUTH_KEK_PREVIOUS: Type.Optional(Type.String()),
  // Checked below, with a message that never repeats the secret.
  METRICS_TOKEN: Type.Optional(Type.String()),
  METRICS_PUBLIC: Type.Union([Type.Literal('true'), Type.Literal('false')], { default: 'false' }),
  AUDIT_RETENTION_DAYS: Type.String({ default: '90', pattern: '^[1-9]\\d{0,4}$' }),
  // On SIGTERM: /readyz is 503 for SHUTDOWN_DELAY, then the listener closes; exit at most SHUTDOWN_TIMEOUT after the signal (service-kit's shutdown.ts).
  SHUTDOWN_DELAY: Type.String({ default: '0s' }),
  SHUTDOWN_TIMEOUT: Type.String({ default: '10s' })
})

export type Env = Static<typeof EnvSchema>

export interface Config {
  host: string
  port: number
  production: boolean
  logLevel: Env['LOG_LEVEL']
  /** REDIS_URL as given; whether any Redis is used (a cluster, Sentinel) is `redis`. */
  redisUrl?: string
  /** The Redis store: one server, a Cluster or a Sentinel-watched master (store/redis-target.ts); unset: memory. */
  redis?: RedisTarget
  /** PostgreSQL for the durable concerns (and, without Redis, all of them); unset: Redis or memory. */
  databaseUrl?: string
  /** Connections at most in the PostgreSQL pool. */
  databasePoolMax: number
  issuer: string
  audience: string
  dataDir: string
  signingAlg: Env['AUTH_SIGNING_ALG']
  /** Signing keys rotate by themselves this often (keys/key-schedule.ts); 0: only by keys:rotate. */
  keyRotationIntervalMs: number
  accessTtlMs: number
  refreshTtlMs: number
  refreshGraceMs: number
  sms: {
    sender: 'console' | 'webhook'
    webhookUrl?: string
    /** E.164 number -> fixed code (never sent, reusable). */
    testOtp: ReadonlyMap<string, string>
    resendCooldownMs: number
    dailyLimitMobile: number
    dailyLimitIp: number
    /** Codes per day that one client IP may have sent to one number (below dailyLimitMobile, so one client cannot use up a number's day). */
    dailyLimitIpMobile: number
    /** Codes per day the whole service sends; when it runs out, an operator is paged (one error log line). */
    dailyLimitGlobal: number
    /** Country calling codes (`+86`, …) codes may be sent to. */
    allowedCountries: readonly string[]
  }
  passwordHash: {
    /** Hashes computed at once, process-wide. */
    concurrency: number
    /** Hashes waiting for a slot; beyond it, 503 at once. */
    queue: number
  }
  adminToken?: string
  /** JSON file of clients and their token policies (clients/registry.ts). */
  clientsFile?: string
  /** Devices per user for the built-in client (0 = unlimited). */
  maxSessions: number
  /** Fastify `trustProxy`: false, a hop count, or the proxies' addresses/CIDRs. Never `true`. */
  trustProxy: false | number | string[]
  /**
   * The key-encryption key sealing signing and MAC keys at rest (keys/seal.ts); unset
   * in development means a KEK generated into the data directory (keys/kek.ts).
   */
  kek?: Kek
  /** KEKs still accepted for reading while `kek:rotate` re-seals under the new one. */
  kekPrevious: readonly Kek[]
  /** METRICS_TOKEN: GET /metrics wants `Authorization: Bearer <it>` (service-kit's metrics-access.ts). */
  metricsToken?: string
  /** METRICS_PUBLIC=true: GET /metrics stays open in production without a token. */
  metricsPublic: boolean
  /** AUDIT_RETENTION_DAYS: security events older than this are deleted (events/retention.ts). */
  auditRetentionMs: number
  /** On SIGTERM, how long /readyz says 503 before the listener closes (service-kit's shutdown.ts). */
  shutdownDelayMs: number
  /** On SIGTERM, the exit comes at most this long after the signal. */
  shutdownTimeoutMs: number
}

export class ConfigError extends Error {
  override name = 'ConfigError'
}

export type EnvInput = Record<string, string | undefined>

export function loadConfig (input: EnvInput = process.env): Readonly<Config> {
  // Keep only our variables: the process environment holds much else.
  const raw: Record<string, string> = {}
  for (const key of Object.keys(EnvSchema.properties)) {
    const v = input[key]
    if (v !== undefined && v !== '') raw[key] = v
  }
  const env = Value.Default(EnvSchema, raw) as Env
  const first = Value.Errors(EnvSchema, env).First()
  if (first !== undefined) {
    const name = first.path.replace(/^\//, '') || 'environment'
    throw new ConfigError(`${name}: ${schemaMessage(first)} (got ${JSON.stringify(raw[name] ?? '')})`)
  }

  const port = Number(env.PORT)
  if (port > 65535) throw new ConfigError(`PORT: must be 0-65535 (got ${env.PORT})`)
  const production = env.NODE_ENV === 'production'
  const keks = parseKekVars(env)
  const redis = parseRedisVars(env)
  // A shared store is read by more than this process (backups, replicas, operators):
  // in production its secrets must be sealed by a KEK that is not stored beside them.
  if (production && keks.kek === undefined && (redis !== undefined || (input.DATABASE_URL ?? '') !== '')) {
    throw new ConfigError('AUTH_KEK: required when NODE_ENV=production with a shared store (REDIS_URL, REDIS_CLUSTER_NODES, REDIS_SENTINELS or DATABASE_URL); generate one with: pnpm --filter @authcenter/auth-center kek:generate')
  }

  if (env.DATABASE_URL !== undefined && !/^postgres(ql)?:\/\/\S+$/.test(env.DATABASE_URL)) {
    throw new ConfigError('DATABASE_URL: expected postgres://user:password@host:port/database (value not shown)')
  }

  if (env.METRICS_TOKEN !== undefined && !/^[\x21-\x7e]{16,}$/.test(env.METRICS_TOKEN)) {
    throw new ConfigError('METRICS_TOKEN: expected at least 16 printable characters without spaces (value not shown)')
  }

  if (env.SMS_SENDER === 'webhook' && env.SMS_WEBHOOK_URL === undefined) {
    throw new ConfigError('SMS_WEBHOOK_URL: required when SMS_SENDER=webhook')
  }
  if (env.SMS_TEST_OTP !== undefined && production) {
    throw new ConfigError('SMS_TEST_OTP: refused when NODE_ENV=production (fixed codes are for tests and review accounts)')
  }
  if (env.SMS_SENDER === 'console' && production) {
    throw new ConfigError('SMS_SENDER: the console sender is refused when NODE_ENV=production (it prints codes); set SMS_SENDER=webhook and SMS_WEBHOOK_URL')
  }

  return Object.freeze({
    host: env.HOST,
    port,
    production,
    logLevel: env.LOG_LEVEL,
    redisUrl: env.REDIS_URL,
    redis,
    databaseUrl: env.DATABASE_URL,
    databasePoolMax: Number(env.DATABASE_POOL_MAX),
    issuer: env.AUTH_ISSUER.replace(/\/+$/, ''),
    audience: env.AUTH_AUDIENCE,
    dataDir: env.AUTH_DATA_DIR,
    signingAlg: env.AUTH_SIGNING_ALG,
    keyRotationIntervalMs: env.AUTH_KEY_ROTATION_INTERVAL.trim() === '0' ? 0 : duration('AUTH_KEY_ROTATION_INTERVAL', env.AUTH_KEY_ROTATION_INTERVAL),
    accessTtlMs: duration('ACCESS_TOKEN_TTL', env.ACCESS_TOKEN_TTL),
    refreshTtlMs: duration('REFRESH_TOKEN_TTL', env.REFRESH_TOKEN_TTL),
    refreshGraceMs: duration('REFRESH_GRACE', env.REFRESH_GRACE),
    sms: Object.freeze({
      sender: env.SMS_SENDER,
      webhookUrl: env.SMS_WEBHOOK_URL,
      testOtp: parseTestOtp(env.SMS_TEST_OTP),
      resendCooldownMs: duration('SMS_RESEND_COOLDOWN', env.SMS_RESEND_COOLDOWN),
      dailyLimitMobile: Number(env.SMS_DAILY_LIMIT_MOBILE),
      dailyLimitIp: Number(env.SMS_DAILY_LIMIT_IP),
      dailyLimitIpMobile: Number(env.SMS_DAILY_LIMIT_IP_MOBILE),
      dailyLimitGlobal: Number(env.SMS_DAILY_LIMIT_GLOBAL),
      allowedCountries: Object.freeze(env.SMS_ALLOWED_COUNTRIES.split(',').map((c) => c.trim()))
    }),
    passwordHash: Object.freeze({
      concurrency: Number(env.PASSWORD_HASH_CONCURRENCY),
      queue: Number(env.PASSWORD_HASH_QUEUE)
    }),
    adminToken: env.AUTH_ADMIN_TOKEN,
    clientsFile: env.AUTH_CLIENTS_FILE,
    maxSessions: Number(env.MAX_SESSIONS),
    trustProxy: parseTrustProxy(env.TRUST_PROXY),
    metricsToken: env.METRICS_TOKEN,
    metricsPublic: env.METRICS_PUBLIC === 'true',
    auditRetentionMs: Number(env.AUDIT_RETENTION_DAYS) * 86_400_000,
    shutdownDelayMs: /^\s*0+\s*(ms|s)?\s*$/.test(env.SHUTDOWN_DELAY) ? 0 : duration('SHUTDOWN_DELAY', env.SHUTDOWN_DELAY),
    shutdownTimeoutMs: duration('SHUTDOWN_TIMEOUT', env.SHUTDOWN_TIMEOUT),
    ...keks
  })
}

/** TypeBox says only "Expected union value" for a value outside a list: name the values it accepts. */
function schemaMessage (error: ValueError): string {
  const options = (error.schema as { anyOf?: Array<{ const?: unknown }> }).anyOf
  if (options !== undefined && options.length > 0 && options.every((o) => typeof o.const === 'string')) {
    return `expected one of ${options.map((o) => o.const as string).join(', ')}`
  }
  return error.message
}

function duration (name: string, value: string): number {
  const ms = parseDuration(value)
  if (ms === undefined) throw new ConfigError(`${name}: expected seconds or a duration like 2m, 15d (got ${JSON.stringify(value)})`)
  return ms
}

function parseTestOtp (value: string | undefined): ReadonlyMap<string, string> {
  const map = new Map<string, string>()
  if (value === undefined) return map
  for (const pair of value.split(',')) {
    const [mobile, code] = pair.trim().split(':')
    if (mobile === undefined || code === undefined || !/^\+[1-9]\d{6,14}$/.test(mobile) || !/^\d{6}$/.test(code)) {
      throw new ConfigError(`SMS_TEST_OTP: expected "+8613800000000:123456,…" (E.164 number, six-digit code)`)
    }
    map.set(mobile, code)
  }
  return map
}

function parseKekVars (env: Env): { kek?: Kek, kekPrevious: readonly Kek[] } {
  try {
    const kekPrevious = Object.freeze(parseKeks('AUTH_KEK_PREVIOUS', env.AUTH_KEK_PREVIOUS))
    return env.AUTH_KEK === undefined ? { kekPrevious } : { kek: parseKek('AUTH_KEK', env.AUTH_KEK), kekPrevious }
  } catch (err) {
    if (err instanceof KekError) throw new ConfigError(err.message)
    throw err
  }
}

function parseRedisVars (env: Env): RedisTarget | undefined {
  try {
    return parseRedisTarget({
      url: env.REDIS_URL,
      clusterNodes: env.REDIS_CLUSTER_NODES,
      sentinels: env.REDIS_SENTINELS,
      sentinelMaster: env.REDIS_SENTINEL_MASTER,
      username: env.REDIS_USERNAME,
      password: env.REDIS_PASSWORD,
      sentinelUsername: env.REDIS_SENTINEL_USERNAME,
      sentinelPassword: env.REDIS_SENTINEL_PASSWORD,
      tls: env.REDIS_TLS
    })
  } catch (err) {
    if (err instanceof RedisTargetError) throw new ConfigError(err.message)
    throw err
  }
}

/** Names proxy-addr (Fastify's trustProxy) knows for the private and loopback ranges. */
const PROXY_RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal'])

/**
 * A hop count or a list of proxy addresses/CIDRs. `true` is refused: it trusts any
 * X-Forwarded-For, so every per-IP limit would be one made-up header away.
 */
function parseTrustProxy (value: string | undefined): false | number | string[] {
  if (value === undefined || value === 'false') return false
  if (value === 'true') {
    throw new ConfigError('TRUST_PROXY: true would trust any X-Forwarded-For; give the proxies\' addresses/CIDRs (10.0.0.1,10.1.0.0/16) or a hop count (1)')
  }
  if (/^\d{1,2}$/.test(value)) {
    const hops = Number(value)
    if (hops >= 1) return hops
  }
  const list = value.split(',').map((v) => v.trim())
  for (const entry of list) {
    if (!isProxyAddress(entry)) {
      throw new ConfigError(`TRUST_PROXY: expected a hop count or proxy addresses/CIDRs separated by commas (got ${JSON.stringify(entry)})`)
    }
  }
  return list
}

function isProxyAddress (entry: string): boolean {
  if (PROXY_RANGE_NAMES.has(entry)) return true
  const [address, prefix, extra] = entry.split('/')
  if (address === undefined || extra !== undefined) return false
  const family = isIP(address)
  if (family === 0) return false
  if (prefix === undefined) return true
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128)
}
