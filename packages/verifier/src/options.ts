import type { DpopReplayCache } from './dpop.js'
import { algorithmSpecs, defaultAlgorithms } from './algorithms.js'
import { ed25519 } from './ed25519.js'
import type { Ed25519 } from './ed25519.js'
import { consoleLogger, isLogger } from './logger.js'
import type { VerifierLogger } from './logger.js'
import type { Algorithm, AlgorithmSpec } from './algorithms.js'
import { resolveRevocationOptions } from './revocation.js'
import { checkMetrics, type VerifierMetrics } from './metrics.js'
import type { ResolvedRevocationOptions, RevocationOptions } from './revocation.js'

/** Options of {@link createVerifier}. Every one is checked when the factory is called. */
export interface VerifierOptions {
  /** Expected `iss`, compared exactly. Also the base of metadata discovery when `jwksUri` is not given. */
  issuer: string
  /** Expected `aud`: the token's `aud` (string or array) must contain one of these. */
  audience: string | string[]
  /**
   * Where the JWKS is. Default: the `jwks_uri` of
   * `${issuer}/.well-known/oauth-authorization-server`, falling back to
   * `${issuer}/.well-known/openid-configuration`.
   */
  jwksUri?: string | URL
  /** Accepted JWS algorithms. Default `['EdDSA', 'ES256', 'RS256']`. Asymmetric only; `HS*` and `none` are a `TypeError`. */
  algorithms?: Algorithm[]
  /** Leeway for `exp`, `nbf` and `iat`: seconds, or a string such as `'5s'`, `'1m'`. Default 5 seconds. */
  clockTolerance?: number | string
  /** The `fetch` used for metadata and JWKS. Default: the global `fetch`. */
  fetch?: typeof globalThis.fetch
  /**
   * DPoP-bound tokens: `replay` shares the proof replay cache between processes (default:
   * a bounded one in this process); `nonceSecret` turns on server nonces (RFC 9449 §8) so
   * clients with skewed clocks can still prove freshness (share it across replicas).
   */
  dpop?: { replay?: DpopReplayCache, nonceSecret?: string | Buffer }
  /** Tokens longer than this are refused before any parsing. Default 8192. */
  maxTokenBytes?: number
  /** Minimum time in ms between two JWKS fetches caused by an unknown `kid`. Default 30000. */
  cooldownDuration?: number
  /** Age in ms after which the JWKS is refreshed in the background on the next call. Default 600000 (10 min). */
  cacheMaxAge?: number
  /** Timeout in ms of each metadata or JWKS request. Default 5000. */
  timeoutDuration?: number
  /**
   * Follow the auth center's revocation feed (docs/revocation-protocol.md):
   * `{ redis: 'redis://…' }`, `{ redis: ioredisClient }` or `{ source }` for
   * an in-process feed. Revoked tokens are refused with `TOKEN_REVOKED`.
   */
  revocation?: RevocationOptions
  /**
   * Verified-token cache: `{ max }` entries (default 10,000), or `false` for none.
   * A hit skips the signature and claim checks only; revocation, DPoP or
   * fingerprint binding and scopes are still checked on every call.
   */
  cache?: { max?: number } | boolean
  /**
   * Where the verifier says why it cannot load the issuer's keys (a wrong issuer, an
   * unreachable metadata URL), once per distinct reason, at warn level. Default: a minimal
   * `console.warn` logger; the Fastify plugin passes the app's `app.log`.
   */
  logger?: VerifierLogger
  /**
   * Monitoring hooks (verify outcomes, cache hits, JWKS fetches), e.g. for prom-client; see
   * {@link VerifierMetrics}. Unset: nothing is counted and nothing costs.
   */
  metrics?: VerifierMetrics
}

/** Options after checks and defaults; frozen. */
export interface ResolvedOptions {
  readonly issuer: string
  readonly audience: readonly string[]
  readonly jwksUri: URL | undefined
  readonly algorithms: ReadonlyMap<string, AlgorithmSpec>
  readonly clockTolerance: number
  readonly fetch: typeof globalThis.fetch
  readonly maxTokenBytes: number
  readonly cooldownDuration: number
  readonly cacheMaxAge: number
  readonly timeoutDuration: number
  readonly revocation: ResolvedRevocationOptions | undefined
  /** Maximum entries of the verified-token cache; 0 when it is off. */
  readonly cacheMax: number
  readonly logger: VerifierLogger
  readonly metrics: VerifierMetrics | undefined
  /** The Ed25519 backend, chosen when the verifier is created (AUTHCENTER_ED25519, else libsodium when it loads). */
  readonly ed25519: Ed25519
}

const units: Record<string, number> = {
  s: 1, sec: 1, secs: 1, second: 1, seconds: 1,
  m: 60, min: 60, mins: 60, minute: 60, minutes: 60,
  h: 3600, hr: 3600, hrs: 3600, hour: 3600, hours: 3600,
  d: 86400, day: 86400, days: 86400
}

/** `'5s'`, `'2 min'`, `'1h'`, `'5'` (seconds) to seconds; `undefined` when not a duration. */
export function parseSeconds (value: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?) *([a-z]*)$/i.exec(value.trim())
  if (match === null) return undefined
  const unit = match[2] === '' ? 1 : units[match[2]!.toLowerCase()]
  return unit === undefined ? undefined : Number(match[1]) * unit
}

function nonEmptyString (value: unknown): value is string {
  return typeof value === 'string' && value.length > 0
}

function httpUrl (value: string | URL, name: string): URL {
  const url = URL.parse(value)
  if (url === null || (url.protocol !== 'https:' && url.protocol !== 'http:')) throw new TypeError(`"${name}" must be an absolute http(s) URL`)
  return url
}

function duration (value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`"${name}" must be a non-negative number of milliseconds`)
  }
  return value
}

/** Checks `createVerifier` options; throws a `TypeError` naming the bad option. */
export function resolveOptions (options: VerifierOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object')

  const { issuer } = options
  if (!nonEmptyString(issuer)) throw new TypeError('"issuer" must be a non-empty string')

  const audience = typeof options.audience === 'string' ? [options.audience] : options.audience
  if (!Array.isArray(audience) || audience.length === 0 || !audience.every(nonEmptyString)) {
    throw new TypeError('"audience" must be a non-empty string or a non-empty array of non-empty strings')
  }

  if (options.dpop !== undefined) {
    const { dpop } = options
    if (typeof dpop !== 'object' || dpop === null) throw new TypeError('"dpop" must be an object')
    if (dpop.replay !== undefined && typeof dpop.replay?.checkAndMark !== 'function') throw new TypeError('"dpop.replay" must have checkAndMark(jti, expiresAtMs)')
    if (dpop.nonceSecret !== undefined && !(typeof dpop.nonceSecret === 'string' ? dpop.nonceSecret.length >= 16 : Buffer.isBuffer(dpop.nonceSecret) && dpop.nonceSecret.length >= 16)) {
      throw new TypeError('"dpop.nonceSecret" must be a string or Buffer of at least 16 bytes')
    }
  }

  const jwksUri = options.jwksUri === undefined ? undefined : httpUrl(options.jwksUri, 'jwksUri')
  // Without jwksUri the issuer is where the metadata is discovered, so it must be a URL then.
  if (jwksUri === undefined) httpUrl(issuer, 'issuer')

  const names = options.algorithms ?? defaultAlgorithms
  if (!Array.isArray(names) || names.length === 0) throw new TypeError('"algorithms" must be a non-empty array')
  const algorithms = new Map<string, AlgorithmSpec>()
  for (const name of names) {
    const spec = typeof name === 'string' ? algorithmSpecs.get(name) : undefined
    if (spec === undefined) {
      const hint = typeof name === 'string' && /^hs/i.test(name)
        ? ' (symmetric algorithms are refused: anyone holding the key could mint tokens)'
        : ''
      throw new TypeError(`"algorithms" contains unsupported algorithm ${JSON.stringify(name)}${hint}; supported: ${[...algorithmSpecs.keys()].join(', ')}`)
    }
    algorithms.set(name, spec)
  }

  let clockTolerance = 5
  if (typeof options.clockTolerance === 'number') clockTolerance = options.clockTolerance
  else if (typeof options.clockTolerance === 'string') clockTolerance = parseSeconds(options.clockTolerance) ?? NaN
  else if (options.clockTolerance !== undefined) clockTolerance = NaN
  if (!Number.isFinite(clockTolerance) || clockTolerance < 0) {
    throw new TypeError('"clockTolerance" must be a non-negative number of seconds or a duration string such as "5s"')
  }

  const fetchFn = options.fetch ?? globalThis.fetch
  if (typeof fetchFn !== 'function') throw new TypeError('"fetch" must be a function')

  const maxTokenBytes = options.maxTokenBytes ?? 8192
  if (!Number.isSafeInteger(maxTokenBytes) || maxTokenBytes <= 0) throw new TypeError('"maxTokenBytes" must be a positive integer')

  let cacheMax = 10_000
  const { cache } = options
  if (cache === false) cacheMax = 0
  else if (typeof cache === 'object' && cache !== null && !Array.isArray(cache)) {
    cacheMax = cache.max ?? 10_000
    if (!Number.isSafeInteger(cacheMax) || cacheMax <= 0) throw new TypeError('"cache.max" must be a positive integer (use cache: false to turn the cache off)')
  } else if (cache !== undefined && cache !== true) {
    throw new TypeError('"cache" must be { max?: number } or false')
  }

  if (options.logger !== undefined && !isLogger(options.logger)) throw new TypeError('"logger" must have warn and info methods')

  return Object.freeze({
    issuer,
    audience: Object.freeze([...audience]),
    jwksUri,
    algorithms,
    clockTolerance,
    fetch: fetchFn,
    maxTokenBytes,
    cooldownDuration: duration(options.cooldownDuration, 'cooldownDuration', 30_000),
    cacheMaxAge: duration(options.cacheMaxAge, 'cacheMaxAge', 600_000),
    timeoutDuration: duration(options.timeoutDuration, 'timeoutDuration', 5_000),
    revocation: resolveRevocationOptions(options.revocation),
    cacheMax,
    logger: options.logger ?? consoleLogger,
    metrics: checkMetrics(options.metrics),
    ed25519: ed25519()
  })
}
