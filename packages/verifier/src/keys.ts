import { createPublicKey } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import type { Ed25519PublicKey } from './ed25519.js'
import { TokenError } from './errors.js'
import type { ResolvedOptions } from './options.js'
import { withTimeout } from './revocation/entries.js'

/**
 * The second argument of `crypto.verify` for one algorithm: the key itself,
 * or the key with its signature encoding / padding.
 */
export type VerifyKeyArgument = KeyObject | { key: KeyObject, dsaEncoding?: 'ieee-p1363', padding?: number, saltLength?: number }

/** One public key from the JWKS, imported once. */
export interface VerificationKey {
  readonly kid: string
  /** `alg` -> ready-made `crypto.verify` key argument, for every allowed algorithm this key fits. */
  readonly byAlgorithm: ReadonlyMap<string, AlgorithmKey>
}

/** A key ready for one algorithm, with the exact size of its signatures. */
export interface AlgorithmKey {
  readonly argument: VerifyKeyArgument
  /** For EdDSA: the key as the Ed25519 backend verifies with it (imported once per JWKS key). */
  readonly ed25519?: Ed25519PublicKey
  /** Bytes of a signature, and characters of its unpadded base64url form. */
  readonly signatureBytes: number
  readonly signatureChars: number
}

/** The key set as loaded by one fetch; a new object after every (re)fetch. */
export type KeyMap = ReadonlyMap<string, readonly VerificationKey[]>

// Larger JWKS answers are refused: a key set is a few kilobytes.
const MAX_RESPONSE_BYTES = 1024 * 1024
// While no key set was ever loaded, failed fetches are retried at most this often.
const FIRST_LOAD_RETRY_MS = 1000

/**
 * One line saying why a load failed, with the causes that `fetch` and discovery nest
 * (`fetch failed` alone does not say ECONNREFUSED; an AggregateError hides each URL's reason).
 */
export function describeFailure (err: unknown): string {
  if (err instanceof AggregateError) return `${err.message}: ${err.errors.map(describeFailure).join('; ')}`
  if (!(err instanceof Error)) return String(err)
  const cause = err.cause as { code?: unknown, message?: unknown } | undefined
  if (typeof cause?.code === 'string') return `${err.message} (${cause.code})`
  if (typeof cause?.message === 'string') return `${err.message} (${cause.message})`
  return err.message
}

/** A value from a remote document, quoted and cut short for a message. */
function shown (value: unknown): string {
  const text = JSON.stringify(value) ?? String(value)
  return text.length > 120 ? `${text.slice(0, 120)}…` : text
}

function isObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Only the public members of a JWK, per key type; `undefined` for anything else (including `oct`). */
function publicMembers (jwk: Record<string, unknown>): Record<string, string> | undefined {
  const names = jwk.kty === 'OKP' ? ['crv', 'x'] : jwk.kty === 'EC' ? ['crv', 'x', 'y'] : jwk.kty === 'RSA' ? ['n', 'e'] : undefined
  if (names === undefined) return undefined
  const out: Record<string, string> = { kty: jwk.kty as string }
  for (const name of names) {
    const value = jwk[name]
    if (typeof value !== 'string' || value === '') return undefined
    out[name] = value
  }
  return out
}

/**
 * The JWKS of the issuer, fetched lazily and cached as `KeyObject`s by `kid`.
 *
 * - `get(kid)` is synchronous and never does I/O: the hot path.
 * - `resolve(kid)` is for a miss: the first load, or one refetch per
 *   `cooldownDuration` for an unknown `kid` (concurrent misses share it).
 * - A set older than `cacheMaxAge` is refreshed in the background while the
 *   old one keeps serving; a failed refresh keeps the old set.
 */
/** Never two fetches closer than this, whatever caused them. */
const MIN_REFETCH_INTERVAL_MS = 1000

export class RemoteKeySet {
  readonly #options: ResolvedOptions
  readonly #closed = new AbortController()
  #jwksUri: URL | undefined
  #keys: KeyMap | undefined
  #fetchedAt = 0
  #attemptedAt = -Infinity
  /** When a refetch was last caused by an unknown kid: those are what the cooldown rate-limits. */
  #missAt = -Infinity
  #inflight: Promise<void> | undefined
  #lastError: unknown
  /** The failure last logged, so that retries (once a second) log a reason only once. */
  #loggedFailure: string | undefined
  /** Canonical public JWK -> KeyObject, so a refetch re-imports only new keys. */
  #imported = new Map<string, KeyObject>()
  /** The Ed25519 form of each imported key, made once however often the set is refetched. */
  readonly #ed25519Keys = new WeakMap<KeyObject, Ed25519PublicKey | undefined>()

  constructor (options: ResolvedOptions) {
    this.#options = options
    this.#jwksUri = options.jwksUri
  }

  /** Keys cached under `kid`, without I/O. `now` in ms. */
  get (kid: string, now: number): readonly VerificationKey[] | undefined {
    const keys = this.#keys
    if (keys === undefined) return undefined
    if (now - this.#fetchedAt > this.#options.cacheMaxAge && this.#inflight === undefined &&
        now - this.#attemptedAt >= this.#options.cooldownDuration) {
      // Stale: refresh for later calls; this one is served from the current set.
      void this.#refresh()
    }
    return keys.get(kid)
  }

  /**
   * The current key set (a new object after every fetch), refreshing it in the
   * background when stale, like `get`. The verified-token cache serves an entry
   * only while this is the set it was verified with.
   */
  current (now: number): KeyMap | undefined {
    const keys = this.#keys
    if (keys !== undefined && now - this.#fetchedAt > this.#options.cacheMaxAge && this.#inflight === undefined &&
        now - this.#attemptedAt >= this.#options.cooldownDuration) {
      void this.#refresh()
    }
    return keys
  }

  /**
   * Keys for a `kid` that `get` did not find: loads the set if it never was
   * (throws `JWKS_UNAVAILABLE` when that fails), otherwise refetches once if
   * the cooldown allows. `undefined` when the kid is still unknown.
   */
  async resolve (kid: string): Promise<readonly VerificationKey[] | undefined> {
    const now = Date.now()
    if (this.#keys === undefined) {
      if (this.#inflight !== undefined) await this.#inflight
      else if (now - this.#attemptedAt >= Math.min(this.#options.cooldownDuration, FIRST_LOAD_RETRY_MS)) await this.#refresh()
      if (this.#keys === undefined) {
        throw new TokenError('JWKS_UNAVAILABLE', `no verification key could be obtained from the issuer: ${describeFailure(this.#lastError)}`, { cause: this.#lastError })
      }
    } else if (this.#inflight !== undefined) {
      await this.#inflight
    } else if (now - this.#missAt >= this.#options.cooldownDuration && now - this.#attemptedAt >= Math.min(MIN_REFETCH_INTERVAL_MS, this.#options.cooldownDuration)) {
      // The cooldown counts from the last refetch an unknown kid caused, not from the
      // first load: a key rotated in just after start is picked up at once, while
      // random kids still cause at most one fetch per cooldown.
      this.#missAt = now
      await this.#refresh()
    }
    return this.#keys.get(kid)
  }

  /** Aborts a fetch in flight and stops all further fetching; cached keys stay usable. */
  close (): void {
    this.#closed.abort()
  }

  /** Starts a fetch (never rejects: a failure is kept in `#lastError` and the old set stays). */
  #refresh (): Promise<void> {
    this.#attemptedAt = Date.now()
    const inflight = this.#load().then(
      (keys) => {
        this.#keys = keys
        this.#fetchedAt = Date.now()
        this.#lastError = undefined
        this.#options.metrics?.onJwksFetch?.(true)
        if (this.#loggedFailure !== undefined) {
          this.#loggedFailure = undefined
          this.#options.logger.info({ issuer: this.#options.issuer }, 'verification keys loaded after earlier failures')
        }
      },
      (err: unknown) => {
        this.#lastError = err
        if (this.#closed.signal.aborted) return
        this.#options.metrics?.onJwksFetch?.(false)
        const reason = describeFailure(err)
        if (reason === this.#loggedFailure) return
        this.#loggedFailure = reason
        this.#options.logger.warn({ issuer: this.#options.issuer, reason },
          this.#keys === undefined ? 'cannot load the verification keys: tokens are answered 503 JWKS_UNAVAILABLE' : 'cannot refresh the verification keys: the cached ones stay in use')
      }
    ).finally(() => { this.#inflight = undefined })
    this.#inflight = inflight
    return inflight
  }

  async #load (): Promise<KeyMap> {
    if (this.#closed.signal.aborted) throw new Error('verifier is closed')
    this.#jwksUri ??= await this.#discover()
    return this.#importKeySet(await this.#getJson(this.#jwksUri))
  }

  /** RFC 8414 metadata first, then OpenID Connect discovery; the `issuer` in it must match. */
  async #discover (): Promise<URL> {
    const base = this.#options.issuer.replace(/\/+$/, '')
    const errors: unknown[] = []
    for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
      const url = new URL(base + path)
      try {
        const metadata = await this.#getJson(url)
        if (!isObject(metadata)) throw new Error(`${url.href} is not a JSON object`)
        if (metadata.issuer !== this.#options.issuer) {
          // The usual misconfiguration: 127.0.0.1 versus localhost, or a trailing path.
          throw new Error(`${url.href} names the issuer ${shown(metadata.issuer)}, not ${shown(this.#options.issuer)} (the verifier's issuer must equal the auth center's AUTH_ISSUER exactly)`)
        }
        if (typeof metadata.jwks_uri !== 'string') throw new Error(`${url.href} has no jwks_uri`)
        const jwksUri = new URL(metadata.jwks_uri)
        if (jwksUri.protocol !== 'https:' && jwksUri.protocol !== 'http:') throw new Error(`${url.href} has a non-http(s) jwks_uri`)
        return jwksUri
      } catch (err) {
        errors.push(err)
      }
    }
    throw new AggregateError(errors, `the metadata of issuer ${this.#options.issuer} could not be read`)
  }

  async #getJson (url: URL): Promise<unknown> {
    // One controller that our own timer and close() abort, and a race on the same
    // deadline: undici can lose an abort that reaches it through a derived signal
    // (AbortSignal.any, a Request following a signal) once the garbage collector has
    // run (nodejs/node#55428), and a fetch from an issuer that never answers then
    // hangs every verification waiting on it. Seen under load on Node 20.
    const ms = this.#options.timeoutDuration
    const controller = new AbortController()
    const closed = this.#closed.signal
    const onClose = (): void => controller.abort(closed.reason)
    closed.addEventListener('abort', onClose, { once: true })
    const timer = setTimeout(() => controller.abort(new Error(`GET ${url.href} timed out after ${ms} ms`)), ms)
    try {
      return await withTimeout(this.#readJson(url, controller.signal), ms, `GET ${url.href}`)
    } finally {
      clearTimeout(timer)
      closed.removeEventListener('abort', onClose)
    }
  }

  async #readJson (url: URL, signal: AbortSignal): Promise<unknown> {
    const response = await this.#options.fetch(url, { headers: { accept: 'application/json' }, signal })
    if (!response.ok) {
      await response.body?.cancel()
      throw new Error(`GET ${url.href} answered ${response.status}`)
    }
    const length = Number(response.headers.get('content-length') ?? 0)
    if (length > MAX_RESPONSE_BYTES) {
      await response.body?.cancel()
      throw new Error(`GET ${url.href} answered more than ${MAX_RESPONSE_BYTES} bytes`)
    }
    const text = await response.text()
    if (text.length > MAX_RESPONSE_BYTES) throw new Error(`GET ${url.href} answered more than ${MAX_RESPONSE_BYTES} bytes`)
    return JSON.parse(text)
  }

  #importKeySet (body: unknown): KeyMap {
    if (!isObject(body) || !Array.isArray(body.keys)) throw new Error('the JWKS has no "keys" array')
    const keys = new Map<string, VerificationKey[]>()
    const imported = new Map<string, KeyObject>()
    for (const jwk of body.keys) {
      const key = this.#importKey(jwk, imported)
      if (key === undefined) continue
      const list = keys.get(key.kid)
      if (list === undefined) keys.set(key.kid, [key])
      else list.push(key)
    }
    if (keys.size === 0) throw new Error('the JWKS has no usable verification key')
    this.#imported = imported
    return keys
  }

  /**
   * One JWK to a verification key, or `undefined` when it must not verify
   * anything: no `kid`, `use` other than `sig`, `key_ops` without `verify`,
   * a symmetric or unknown `kty`, an `alg` not allowed, or no allowed
   * algorithm that fits the key (type, curve, RSA size).
   */
  #importKey (jwk: unknown, imported: Map<string, KeyObject>): VerificationKey | undefined {
    if (!isObject(jwk) || typeof jwk.kid !== 'string' || jwk.kid === '') return undefined
    if (jwk.use !== undefined && jwk.use !== 'sig') return undefined
    if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify'))) return undefined
    if (jwk.alg !== undefined && (typeof jwk.alg !== 'string' || !this.#options.algorithms.has(jwk.alg))) return undefined
    const members = publicMembers(jwk)
    if (members === undefined) return undefined

    const canonical = JSON.stringify(members)
    let key = this.#imported.get(canonical) ?? imported.get(canonical)
    if (key === undefined) {
      try {
        key = createPublicKey({ key: members, format: 'jwk' })
      } catch {
        return undefined
      }
    }
    imported.set(canonical, key)

    const byAlgorithm = new Map<string, AlgorithmKey>()
    for (const spec of this.#options.algorithms.values()) {
      if (jwk.alg !== undefined && jwk.alg !== spec.name) continue
      if (!spec.fits(key)) continue
      const hasOptions = Object.keys(spec.verifyOptions).length > 0
      const signatureBytes = spec.signatureBytes(key)
      const ed25519 = spec.hash === null ? this.#ed25519Key(key) : undefined
      if (spec.hash === null && ed25519 === undefined) continue
      byAlgorithm.set(spec.name, {
        argument: hasOptions ? { key, ...spec.verifyOptions } : key,
        ...(ed25519 !== undefined ? { ed25519 } : {}),
        signatureBytes,
        signatureChars: Math.ceil(signatureBytes * 4 / 3)
      })
    }
    if (byAlgorithm.size === 0) return undefined
    return { kid: jwk.kid, byAlgorithm }
  }

  #ed25519Key (key: KeyObject): Ed25519PublicKey | undefined {
    if (!this.#ed25519Keys.has(key)) this.#ed25519Keys.set(key, this.#options.ed25519.importPublicKey(key))
    return this.#ed25519Keys.get(key)
  }
}
