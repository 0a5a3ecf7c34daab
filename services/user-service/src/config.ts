import { Type, type Static } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'

/** Bytes, or a number with a unit; the unit itself is checked by `parseSize`. */
const SIZE_PATTERN = '^\\s*[0-9]+(\\.[0-9]+)?\\s*[a-zA-Z]{0,3}\\s*$'

/**
 * The environment this service reads. Every value is a string (it is the
 * environment); the checks that a pattern can express live in the schema, and
 * `loadConfig` turns the strings into the typed, frozen {@link Config}.
 * Each variable's default is written beside it.
 */
export const EnvSchema = Type.Object({
  /** Interface to listen on. Default `127.0.0.1`. */
  HOST: Type.Optional(Type.String({ minLength: 1, expected: 'a host name or address' })),
  /** TCP port. Default `4001`. */
  PORT: Type.Optional(Type.String({ pattern: '^[0-9]{1,5}$', expected: 'an integer between 0 and 65535' })),
  /** The auth center's issuer URL (`iss`). Default `http://localhost:4000`. */
  AUTH_ISSUER: Type.Optional(Type.String({ pattern: '^https?://[^\\s]+$', expected: 'an http(s) URL' })),
  /** The `aud` access tokens must carry. Default `authcenter`. */
  AUTH_AUDIENCE: Type.Optional(Type.String({ minLength: 1, expected: 'a non-empty string' })),
  /**
   * The URL clients reach this service at (`https://api.example.com`, or with the path a
   * gateway mounts it on): DPoP proofs' `htu` must name it, whatever the Host header says.
   * Unset: the address the service listens on (`http://127.0.0.1:<PORT>`, `http://localhost:<PORT>`).
   */
  PUBLIC_URL: Type.Optional(Type.String({ pattern: '^https?://[^\\s/?#]+(/[^\\s?#]*)?$', expected: 'an http(s) URL without query, e.g. https://api.example.com' })),
  /** Where the public keys are; unset means "discover from the issuer's metadata". */
  AUTH_JWKS_URI: Type.Optional(Type.String({ pattern: '^https?://[^\\s]+$', expected: 'an http(s) URL' })),
  /** Profile store in PostgreSQL (this service's own database); wins over REDIS_URL for profiles. Unset by default. */
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://[^\\s]+$', expected: 'a postgres:// or postgresql:// URL' })),
  /** Profile store (unless DATABASE_URL) and DPoP replay cache; unset means the in-memory driver. */
  REDIS_URL: Type.Optional(Type.String({ pattern: '^rediss?://[^\\s]*$', expected: 'a redis:// or rediss:// URL' })),
  /**
   * The credential this service reads the auth center's revocation feed with (a client with
   * `client_credentials` and the scope `revocations:read`). Default outside production: the
   * auth center's built-in development reader; required in production (unless REVOCATION_REDIS_URL).
   */
  REVOCATION_CLIENT_ID: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$', expected: 'a client id' })),
  REVOCATION_CLIENT_SECRET: Type.Optional(Type.String({ minLength: 1, expected: 'the client secret' })),
  /**
   * Optional: follow the feed through the auth center's Redis instead, as the user an ACL
   * restricts to the denylist keys and the feed channel (README "Revocations"). Unset by default.
   */
  REVOCATION_REDIS_URL: Type.Optional(Type.String({ pattern: '^rediss?://[^\\s]*$', expected: 'a redis:// or rediss:// URL' })),
  NODE_ENV: Type.Optional(Type.String()),
  /** Directory the avatar files live in. Default `./.data/avatars`. */
  AVATAR_DIR: Type.Optional(Type.String({ minLength: 1, expected: 'a directory path' })),
  /** Largest avatar accepted: bytes, or a number with a unit (`2MiB`, `512KiB`, `1MB`). Default 2 MiB. */
  AVATAR_MAX_BYTES: Type.Optional(Type.String({ pattern: SIZE_PATTERN, expected: 'a size such as 2097152, 2MiB or 512KiB (1 B to 1 GiB)' })),
  /** GET /metrics then wants `Authorization: Bearer <METRICS_TOKEN>`. Unset: open outside production, off (404) in production. */
  METRICS_TOKEN: Type.Optional(Type.String({ pattern: '^[\\x21-\\x7e]{16,}$', expected: 'at least 16 printable characters without spaces' })),
  /** `true`: GET /metrics stays open in production without METRICS_TOKEN. Default `false`. */
  METRICS_PUBLIC: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')], { expected: 'true or false' })),
  /** On SIGTERM: how long /readyz says 503 before the listener closes. Default `0s`. */
  SHUTDOWN_DELAY: Type.Optional(Type.String({ pattern: '^\\s*[0-9]+\\s*(ms|s)?\\s*$', expected: 'a duration such as 5s or 500ms' })),
  /** On SIGTERM: the exit comes at most this long after the signal. Default `10s`. */
  SHUTDOWN_TIMEOUT: Type.Optional(Type.String({ pattern: '^\\s*[0-9]+\\s*(ms|s)?\\s*$', expected: 'a duration such as 10s or 500ms' })),
  /** pino level. Default `info`. */
  LOG_LEVEL: Type.Optional(Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    { expected: 'one of fatal, error, warn, info, debug, trace, silent' }
  ))
})

export type Env = Static<typeof EnvSchema>

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'

export interface Config {
  readonly host: string
  readonly port: number
  readonly authIssuer: string
  readonly authAudience: string
  /** Unset: DPoP `htu` is checked against the address the service listens on (development). */
  readonly publicUrl?: string | undefined
  /** Unset: the verifier discovers `jwks_uri` from the issuer's metadata. */
  readonly authJwksUri?: string | undefined
  /** Profiles in PostgreSQL (wins over redisUrl for profiles). */
  readonly databaseUrl?: string | undefined
  /** Unset (and no databaseUrl): profiles live in memory and are lost on restart. */
  readonly redisUrl?: string | undefined
  /** How the verifier follows revocations: the auth center's HTTP feed (the default) or its Redis as an ACL user. */
  readonly revocation: { readonly clientId: string, readonly clientSecret: string } | { readonly redisUrl: string }
  readonly avatarDir: string
  readonly avatarMaxBytes: number
  readonly logLevel: LogLevel
  readonly production: boolean
  /** GET /metrics wants `Authorization: Bearer <it>`. */
  readonly metricsToken?: string | undefined
  /** GET /metrics stays open in production without a token. */
  readonly metricsPublic: boolean
  /** On SIGTERM: /readyz 503 this long before the listener closes. */
  readonly shutdownDelayMs: number
  /** On SIGTERM: the exit comes at most this long after the signal. */
  readonly shutdownTimeoutMs: number
}

const UNITS: Record<string, number> = {
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3
}

const MAX_AVATAR_BYTES = 1024 ** 3

/**
 * Parses a size: plain bytes (`2097152`) or a number with a unit. `KB`/`MB`/`GB`
 * are decimal, `KiB`/`MiB`/`GiB` (and the bare `K`/`M`/`G`) binary.
 * Returns `undefined` when the text is not a size.
 */
export function parseSize (text: string): number | undefined {
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*$/.exec(text)
  if (m === null) return undefined
  const unit = UNITS[(m[2] ?? '').toLowerCase() || 'b']
  if (unit === undefined) return undefined
  const bytes = Math.floor(Number(m[1]) * unit)
  return Number.isSafeInteger(bytes) ? bytes : undefined
}

// DATABASE_URL carries the database password.
const SECRETS = new Set(['METRICS_TOKEN', 'REVOCATION_CLIENT_SECRET', 'DATABASE_URL'])

class ConfigError extends Error {
  constructor (variable: string, expected: string, got: unknown) {
    super(`invalid environment: ${variable} must be ${expected} (got ${JSON.stringify(got)})`)
    this.name = 'ConfigError'
  }
}

/**
 * Reads and checks the environment. A bad value throws an `Error` whose message
 * is one line naming the variable, for `server.ts` to print before exiting 1.
 *
 * @example
 * const config = loadConfig({ PORT: '0', AVATAR_MAX_BYTES: '512KiB' })
 * config.avatarMaxBytes // 524288
 */
export function loadConfig (env: NodeJS.ProcessEnv = process.env): Config {
  // Only our variables, and an empty string counts as unset (as in `FOO= node …`).
  const picked: Record<string, string> = {}
  for (const key of Object.keys(EnvSchema.properties)) {
    const value = env[key]
    if (value !== undefined && value !== '') picked[key] = value
  }

  const first = Value.Errors(EnvSchema, picked).First()
  if (first !== undefined) {
    const variable = first.path.split('/')[1] ?? first.path
    const schema = (EnvSchema.properties as Record<string, { expected?: string }>)[variable]
    // A secret is never repeated in the message (it ends up in logs).
    throw new ConfigError(variable, schema?.expected ?? first.message, SECRETS.has(variable) ? '(not shown)' : picked[variable])
  }
  const e = picked as Env

  const port = Number(e.PORT ?? '4001')
  if (port > 65535) throw new ConfigError('PORT', 'an integer between 0 and 65535', e.PORT)

  const avatarMaxBytes = e.AVATAR_MAX_BYTES === undefined ? 2 * 1024 * 1024 : parseSize(e.AVATAR_MAX_BYTES)
  if (avatarMaxBytes === undefined || avatarMaxBytes < 1 || avatarMaxBytes > MAX_AVATAR_BYTES) {
    throw new ConfigError('AVATAR_MAX_BYTES', EnvSchema.properties.AVATAR_MAX_BYTES.expected as string, e.AVATAR_MAX_BYTES)
  }

  const redisUrl = e.REDIS_URL
  return Object.freeze({
    revocation: revocationConfig(e),
    host: e.HOST ?? '127.0.0.1',
    port,
    authIssuer: e.AUTH_ISSUER ?? 'http://localhost:4000',
    authAudience: e.AUTH_AUDIENCE ?? 'authcenter',
    publicUrl: e.PUBLIC_URL,
    authJwksUri: e.AUTH_JWKS_URI,
    databaseUrl: e.DATABASE_URL,
    redisUrl,
    avatarDir: e.AVATAR_DIR ?? './.data/avatars',
    avatarMaxBytes,
    logLevel: (e.LOG_LEVEL ?? 'info') as LogLevel,
    production: e.NODE_ENV === 'production',
    metricsToken: e.METRICS_TOKEN,
    metricsPublic: e.METRICS_PUBLIC === 'true',
    shutdownDelayMs: milliseconds(e.SHUTDOWN_DELAY ?? '0s'),
    shutdownTimeoutMs: milliseconds(e.SHUTDOWN_TIMEOUT ?? '10s')
  })
}

/** `10s`, `500ms`, `3` (seconds), as the schema's pattern lets through. */
function milliseconds (text: string): number {
  const m = /^\s*([0-9]+)\s*(ms|s)?\s*$/.exec(text)!
  return Number(m[1]) * (m[2] === 'ms' ? 1 : 1000)
}

/** The auth center's built-in development reader (services/auth-center/src/revocations/dev-client.ts). */
const DEV_REVOCATION_CLIENT_ID = 'dev-revocations'
const DEV_REVOCATION_CLIENT_SECRET = 'dev-revocations-secret-not-for-production'

/**
 * The revocation feed's credential: given, or (outside production only) the auth
 * center's development reader, so `pnpm start` needs no configuration. In production a
 * missing one stops the start: without it logouts would never reach this service.
 */
function revocationConfig (e: Env): Config['revocation'] {
  if (e.REVOCATION_REDIS_URL !== undefined) return Object.freeze({ redisUrl: e.REVOCATION_REDIS_URL })
  if (e.NODE_ENV === 'production') {
    for (const name of ['REVOCATION_CLIENT_ID', 'REVOCATION_CLIENT_SECRET'] as const) {
      if (e[name] === undefined) {
        throw new Error(`invalid environment: ${name} is required when NODE_ENV=production (the credential the revocation feed is read with; or set REVOCATION_REDIS_URL)`)
      }
    }
  }
  return Object.freeze({
    clientId: e.REVOCATION_CLIENT_ID ?? DEV_REVOCATION_CLIENT_ID,
    clientSecret: e.REVOCATION_CLIENT_SECRET ?? DEV_REVOCATION_CLIENT_SECRET
  })
}
