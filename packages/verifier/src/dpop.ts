import { createHash, createHmac, createPublicKey, timingSafeEqual, verify as cryptoVerify, type JsonWebKey, type KeyObject } from 'node:crypto'
import { algorithmSpecs, type Algorithm } from './algorithms.js'
import { ed25519, importEd25519PublicKey } from './ed25519.js'

/**
 * DPoP proof checks of RFC 9449 §4.3, for a resource server (with an access token)
 * and for the auth center's token endpoints (without one). Synchronous: node:crypto, and
 * for EdDSA the Ed25519 backend (libsodium or node:crypto, the same answers: ed25519.ts).
 */

export type DpopErrorCode = 'INVALID_DPOP_PROOF' | 'USE_DPOP_NONCE'

/** A refused proof: answer 401 (400 at a token endpoint) with `WWW-Authenticate: DPoP error="invalid_dpop_proof"`. */
export class DpopError extends Error {
  override readonly name = 'DpopError'
  readonly statusCode = 401
  constructor (readonly code: DpopErrorCode, message: string, readonly nonce?: string) {
    super(message)
  }

  /** The RFC 9449 §7.1 / §8 error name. */
  get error (): 'invalid_dpop_proof' | 'use_dpop_nonce' {
    return this.code === 'USE_DPOP_NONCE' ? 'use_dpop_nonce' : 'invalid_dpop_proof'
  }
}

/** Remembers proof `jti`s until they could no longer pass the `iat` window. */
export interface DpopReplayCache {
  /** Atomic check-and-mark: true the first time a jti is seen, false for a replay. */
  checkAndMark (jti: string, expiresAtMs: number): boolean | Promise<boolean>
}

/** Server nonces (RFC 9449 §8) for clients whose clocks cannot be trusted. */
export interface DpopNonces {
  /** The nonce to hand out now (sent as `DPoP-Nonce`). */
  current (): string
  /** Whether a nonce from a proof is one we handed out and still accept. */
  accepts (nonce: string): boolean
}

export interface DpopCheckOptions {
  /** The `DPoP` header values of the request: exactly one is required. */
  proof: string | string[] | undefined
  /** HTTP method of the request. */
  method: string
  /**
   * Absolute URL of the request (query and fragment are ignored), built from this
   * server's configured public URL, never from the request's Host header; or the list
   * of URLs it may have been sent to (a service reached under several names).
   */
  url: string | readonly string[]
  /** With an access token: `ath` must be its SHA-256, and the key must match `jkt`. */
  accessToken?: string
  /** The `cnf.jkt` the key must match (access token or bound refresh token). */
  jkt?: string
  replay: DpopReplayCache
  nonces?: DpopNonces
  /** Accepted proof algorithms (default ES256, EdDSA, RS256, PS256). */
  algorithms?: readonly Algorithm[]
  /** How old a proof may be, in seconds (default 60), and how far ahead of our clock (default 5). */
  maxAgeSeconds?: number
  clockSkewSeconds?: number
  now?: number
}

export interface DpopProof {
  /** RFC 7638 SHA-256 thumbprint of the proof key: what `cnf.jkt` carries. */
  jkt: string
  jti: string
  iat: number
}

const DEFAULT_ALGS: readonly Algorithm[] = ['ES256', 'EdDSA', 'RS256', 'PS256']
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']
const MAX_PROOF_BYTES = 4096
const B64URL = /^[A-Za-z0-9_-]+$/

function invalid (message: string): DpopError {
  return new DpopError('INVALID_DPOP_PROOF', message)
}

function json (segment: string, what: string): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'))
  } catch {
    throw invalid(`the proof ${what} is not base64url JSON`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(`the proof ${what} is not a JSON object`)
  return value as Record<string, unknown>
}

/** RFC 7638 thumbprint over the required members, in lexicographic order. */
export function jwkThumbprint (jwk: JsonWebKey): string {
  let members: Record<string, unknown>
  switch (jwk.kty) {
    case 'EC': members = { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }; break
    case 'OKP': members = { crv: jwk.crv, kty: jwk.kty, x: jwk.x }; break
    case 'RSA': members = { e: jwk.e, kty: jwk.kty, n: jwk.n }; break
    default: throw invalid('the proof key type is not supported')
  }
  for (const v of Object.values(members)) if (typeof v !== 'string') throw invalid('the proof key is incomplete')
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url')
}

/** `scheme://host[:port]/path`, normalised by the URL parser, without query and fragment. */
export function htuOf (url: string): string | undefined {
  // URL.parse (Node 20.18+, 22.1+; engines starts at 20.20) answers null where `new URL` throws:
  // no exception to build for every proof with a junk htu.
  const u = URL.parse(url)
  return u === null ? undefined : `${u.protocol}//${u.host}${u.pathname}`
}

function sameString (a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

/**
 * Checks one DPoP proof, per RFC 9449 §4.3, and returns its key thumbprint.
 *
 * @example
 * ```ts
 * const { jkt } = await checkDpopProof({ proof: req.headers.dpop, method: 'GET', url, accessToken, jkt: auth.claims.cnf.jkt, replay })
 * ```
 */
export async function checkDpopProof (opts: DpopCheckOptions): Promise<DpopProof> {
  // 1. exactly one DPoP header
  const values = Array.isArray(opts.proof) ? opts.proof : opts.proof === undefined ? [] : [opts.proof]
  if (values.length !== 1) throw invalid(values.length === 0 ? 'a DPoP proof is required' : 'exactly one DPoP header is allowed')
  const proof = values[0]!
  // Node joins repeated headers with ", ": a comma means more than one DPoP header.
  if (proof.includes(',')) throw invalid('exactly one DPoP header is allowed')
  if (proof.length > MAX_PROOF_BYTES) throw invalid('the proof is too large')

  // 2. a well-formed JWS
  const parts = proof.split('.')
  if (parts.length !== 3 || !parts.every((p) => B64URL.test(p))) throw invalid('the proof is not a compact JWS')
  const header = json(parts[0]!, 'header')
  const claims = json(parts[1]!, 'payload')

  // 4. typ, 5. alg: asymmetric and accepted
  if (header.typ !== 'dpop+jwt') throw invalid('the proof typ must be dpop+jwt')
  const algs = opts.algorithms ?? DEFAULT_ALGS
  const spec = typeof header.alg === 'string' && algs.includes(header.alg as Algorithm) ? algorithmSpecs.get(header.alg) : undefined
  if (spec === undefined) throw invalid('the proof alg is not accepted')
  if ('crit' in header || 'jku' in header || 'x5u' in header || 'x5c' in header || 'kid' in header) {
    throw invalid('the proof header names its key other than by an embedded public jwk')
  }

  // 7. a public jwk only
  const jwk = header.jwk
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw invalid('the proof header has no jwk')
  for (const m of PRIVATE_MEMBERS) if (m in jwk) throw invalid('the proof jwk holds private key material')
  let key: KeyObject
  try {
    key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' })
  } catch {
    throw invalid('the proof jwk is not a valid public key')
  }
  if (!spec.fits(key)) throw invalid('the proof key does not fit its alg')

  // 6. signature (an EdDSA key that fits is canonical and not of small order: it imports)
  const edKey = spec.hash === null ? importEd25519PublicKey(key) : undefined
  const backend = edKey === undefined ? undefined : ed25519()
  let ok = false
  try {
    const input = Buffer.from(`${parts[0]}.${parts[1]}`)
    const signature = Buffer.from(parts[2]!, 'base64url')
    ok = backend !== undefined ? backend.verify(edKey!, input, signature) : cryptoVerify(spec.hash, input, { key, ...spec.verifyOptions }, signature)
  } catch {
    ok = false
  }
  if (!ok) throw invalid('the proof signature is invalid')

  // 3. required claims, 8. htm, 9. htu
  const { jti, htm, htu, iat } = claims
  if (typeof jti !== 'string' || jti.length < 8 || jti.length > 256) throw invalid('the proof jti is missing or unusable')
  if (typeof iat !== 'number' || !Number.isFinite(iat)) throw invalid('the proof iat is missing')
  if (htm !== opts.method.toUpperCase()) throw invalid('the proof htm does not match the request method')
  const claimed = typeof htu === 'string' ? htuOf(htu) : undefined
  const urls = typeof opts.url === 'string' ? [opts.url] : opts.url
  if (claimed === undefined || !urls.some((url) => htuOf(url) === claimed)) throw invalid('the proof htu does not match the request URL')

  // 10. nonce, 11. iat window. A server nonce proves freshness by itself, so a client
  // whose clock is off retries with the nonce we hand it instead of failing for good.
  const now = opts.now ?? Date.now()
  const maxAge = opts.maxAgeSeconds ?? 60
  const skew = opts.clockSkewSeconds ?? 5
  const nowSec = now / 1000
  const nonce = claims.nonce
  if (nonce !== undefined && (opts.nonces === undefined || typeof nonce !== 'string' || !opts.nonces.accepts(nonce))) {
    if (opts.nonces !== undefined) throw new DpopError('USE_DPOP_NONCE', 'the proof nonce is not current', opts.nonces.current())
    throw invalid('the proof carries a nonce this server did not issue')
  }
  if (nonce === undefined && (iat > nowSec + skew || iat < nowSec - maxAge)) {
    if (opts.nonces !== undefined) throw new DpopError('USE_DPOP_NONCE', 'the proof iat is outside the accepted window: use the DPoP-Nonce', opts.nonces.current())
    throw invalid(iat > nowSec + skew ? 'the proof iat is in the future' : 'the proof is too old')
  }

  // 12. ath and the key binding
  const jkt = jwkThumbprint(jwk as JsonWebKey)
  if (opts.accessToken !== undefined) {
    const ath = createHash('sha256').update(opts.accessToken).digest('base64url')
    if (typeof claims.ath !== 'string' || !sameString(claims.ath, ath)) throw invalid('the proof ath does not match the access token')
  }
  if (opts.jkt !== undefined && !sameString(jkt, opts.jkt)) throw invalid('the proof key is not the key the token is bound to')

  // Replay: last, so that a proof refused for another reason does not burn its jti.
  // Remembered as long as the proof could pass: its iat window, or the nonce's life.
  const fresh = await opts.replay.checkAndMark(`${jkt}:${jti}`, Math.max((iat + maxAge + skew) * 1000, now + (opts.nonces !== undefined ? 2 * NONCE_WINDOW_MS : 0)))
  if (!fresh) throw invalid('the proof was already used')
  return { jkt, jti, iat }
}

const NONCE_WINDOW_MS = 5 * 60_000

/**
 * Stateless server nonces: an HMAC of the current five-minute window, so every
 * replica that shares the secret accepts the nonces of the others. A nonce is good
 * for the window it was made in and the next one.
 */
export function createDpopNonces (secret: Buffer | string, now: () => number = Date.now): DpopNonces {
  const make = (window: number): string =>
    `${window.toString(36)}.${createHmac('sha256', secret).update(`dpop-nonce|${window}`).digest('base64url').slice(0, 22)}`
  return {
    current: () => make(Math.floor(now() / NONCE_WINDOW_MS)),
    accepts (nonce) {
      const w = Math.floor(now() / NONCE_WINDOW_MS)
      return sameString(nonce, make(w)) || sameString(nonce, make(w - 1))
    }
  }
}

/** Cookie of the browser binding (OWASP token sidejacking): its SHA-256 is the token's `cnf.fgp`. */
export const FINGERPRINT_COOKIE = '__Host-ac_fgp'

/** SHA-256 (base64url) of a fingerprint, as carried in `cnf.fgp`. */
export function fingerprintHash (fingerprint: string): string {
  return createHash('sha256').update(fingerprint).digest('base64url')
}

/** The value of one cookie from a `Cookie` header, or undefined. */
export function readCookie (header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined
  for (const part of header.split(';')) {
    const i = part.indexOf('=')
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim()
  }
  return undefined
}

/** Constant-time check that a fingerprint cookie matches a token's `cnf.fgp`. */
export function fingerprintMatches (fingerprint: string | undefined, expectedHash: string): boolean {
  return fingerprint !== undefined && sameString(fingerprintHash(fingerprint), expectedHash)
}

/**
 * A bounded in-process replay cache. Entries leave when their proof could no longer
 * pass the iat window; past `max` entries the oldest are dropped (a dropped jti is
 * at worst accepted once more, inside its window, only if the cache overflowed).
 */
export function createMemoryReplayCache (max = 100_000): DpopReplayCache {
  const seen = new Map<string, number>()
  return {
    checkAndMark (jti, expiresAtMs) {
      const now = Date.now()
      const prev = seen.get(jti)
      if (prev !== undefined && prev > now) return false
      seen.delete(jti)
      seen.set(jti, expiresAtMs)
      if (seen.size > max) {
        for (const [k, exp] of seen) {
          if (seen.size <= max && exp > now) break
          seen.delete(k)
        }
      }
      return true
    }
  }
}

export { createRedisReplayCache, type RedisReplayClient } from './dpop-redis-replay.js'
