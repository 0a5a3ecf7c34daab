import { isAscii } from 'node:buffer'
import { verify as cryptoVerify } from 'node:crypto'
import type { AlgorithmSpec } from './algorithms.js'
import type { Ed25519 } from './ed25519.js'
import { checkDpopProof, createDpopNonces, createMemoryReplayCache, DpopError, fingerprintMatches } from './dpop.js'
import { TokenCache } from './cache.js'
import { TokenError } from './errors.js'
import { RemoteKeySet } from './keys.js'
import type { KeyMap, VerificationKey } from './keys.js'
import { resolveOptions } from './options.js'
import type { VerifierOptions } from './options.js'
import { createRevocationList } from './revocation.js'
import type { RevocationState } from './revocation.js'

/**
 * What a token proves it may do, from its `ac_kind` claim (never from a missing claim):
 * - `first-party`: a first-party app of the user (logged in at the auth center): acts as the user;
 * - `third-party`: an OAuth2 client the user consented to: acts only within `scope`;
 * - `client`: a client acting for itself (client credentials): `sub` is `client:<client_id>`, never a user.
 * A token without the claim, or with any other value, is `third-party`: its `scope` alone decides.
 */
export type TokenKind = 'first-party' | 'third-party' | 'client'

/** Who the verified token speaks for. */
export interface Auth {
  /** `sub`: the user id, or `client:<client_id>` for client credentials (see {@link TokenKind}). */
  sub: string
  /** What the token proves it may do: see {@link TokenKind}. */
  kind: TokenKind
  /** `kind === 'first-party'`: the token acts as the user. */
  firstParty: boolean
  /** `sid`: the session the token belongs to, when it has one. */
  sid?: string
  /** `client_id`: the client the token was issued to. */
  clientId?: string
  /** `scope`, split on spaces (RFC 9068); empty when the token has none. */
  scope: string[]
  /** Every claim of the token, as signed. */
  claims: Record<string, unknown>
}

/** Per-call options of a verifier. */
export interface VerifyOptions {
  /** Scopes the token must all carry: an array, or one space-separated string. */
  scope?: string | readonly string[]
  /** The `Authorization` scheme the token came with: a DPoP-bound token must come as `DPoP`, an unbound one not. */
  scheme?: string
  /** The request, for a DPoP-bound token (`cnf.jkt`): its `DPoP` header value(s), method and absolute URL (from the configured public URL, never the Host header; or the list of URLs it may have been sent to). */
  dpop?: { proof: string | string[] | undefined, method: string, url: string | readonly string[] }
  /** The fingerprint cookie's value, for a cookie-bound token (`cnf.fgp`). */
  fingerprint?: string
}

/** What {@link createVerifier} returns: call it, or call `.verify`. */
export interface Verifier {
  (token: unknown, options?: VerifyOptions): Promise<Auth>
  /** The same function as the verifier itself. */
  verify: (token: unknown, options?: VerifyOptions) => Promise<Auth>
  /**
   * Stops fetching keys (aborts a fetch in flight) and stops following the
   * revocation feed (closes the Redis connections the verifier opened; a client
   * you passed is left open). Tokens whose key is cached still verify, against
   * the last revocation list.
   */
  close: () => Promise<void>
  /**
   * Resolves once the first revocation list is loaded; at once without the
   * `revocation` option. Rejects if the verifier is closed first or ioredis
   * cannot be loaded; stays pending while Redis is unreachable (race it with
   * a timeout if you need a bound).
   */
  ready: () => Promise<void>
  /** The revocation list (size, freshness, epoch, a hook per revocation); `undefined` without the `revocation` option. */
  revocation: RevocationState | undefined
  /** The verified-token cache (entries, bound, `clear()`); `undefined` with `cache: false`. */
  cache?: { readonly size: number, readonly max: number, clear: () => void } | undefined
}

/** A checked header: the algorithm to verify with and the key id. */
interface Header {
  readonly spec: AlgorithmSpec
  readonly kid: string
}

const BASE64URL = /^[A-Za-z0-9_-]+$/
const DOT = 46
// Headers that point at keys or change how the JWS is processed. We use only
// the JWKS of the configured issuer and understand no extension, so a token
// that carries any of them is refused outright (RFC 8725 §3.10, RFC 7515 §4.1.11).
const REFUSED_HEADERS = ['jku', 'x5u', 'jwk', 'x5c', 'crit', 'b64', 'zip', 'enc', 'cty'] as const
// Header cache size; only headers of tokens that verified are cached, so this
// holds the few headers the issuer actually uses.
const HEADER_CACHE_SIZE = 64
// Distinct scope strings remembered (each a few dozen bytes); cleared when full.
const SCOPE_LIST_CACHE_SIZE = 256

function isObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

const malformed = (message: string, cause?: unknown): TokenError => new TokenError('TOKEN_MALFORMED', message, { cause })
const invalid = (message: string, cause?: unknown): TokenError => new TokenError('TOKEN_INVALID', message, { cause })

function nonEmptyString (value: unknown): value is string {
  return typeof value === 'string' && value.length > 0
}

// Frozen scope arrays (the Fastify plugin passes one per route) are checked once.
const checkedScopes = new WeakMap<readonly unknown[], readonly string[] | undefined>()

/** Required scopes from per-call options; `undefined` when none are required. */
export function requiredScopes (scope: VerifyOptions['scope']): readonly string[] | undefined {
  if (scope === undefined) return undefined
  if (Array.isArray(scope) && Object.isFrozen(scope)) {
    if (checkedScopes.has(scope)) return checkedScopes.get(scope)
    const required = requiredScopes([...scope])
    checkedScopes.set(scope, required === undefined ? undefined : Object.freeze([...required]))
    return checkedScopes.get(scope)
  }
  const list = typeof scope === 'string' ? scope.split(' ') : scope
  if (!Array.isArray(list) || !list.every((s) => typeof s === 'string')) {
    throw new TypeError('"scope" must be a string or an array of strings')
  }
  const required = list.filter((s) => s.length > 0)
  return required.length === 0 ? undefined : required
}

function decodeJson (segment: string, what: string): unknown {
  try {
    return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'))
  } catch (err) {
    throw malformed(`the ${what} is not base64url-encoded JSON`, err)
  }
}

/**
 * The claims of a token whose signature verified, decoded into `scratch`
 * (no Buffer per token). Claims are nearly always ASCII, and reading ASCII
 * as latin1 skips the UTF-8 decoder (a third of the cost of JSON.parse);
 * anything else is decoded as UTF-8, as before.
 */
function decodeClaims (segment: string, scratch: Buffer): unknown {
  const length = scratch.write(segment, 0, 'base64url')
  try {
    return JSON.parse(scratch.toString(isAscii(scratch.subarray(0, length)) ? 'latin1' : 'utf8', 0, length))
  } catch (err) {
    throw malformed('the payload is not base64url-encoded JSON', err)
  }
}

const NO_SCOPES: readonly string[] = Object.freeze([])

/**
 * Creates a verifier of RFC 9068 access tokens (`typ: at+jwt`) signed by
 * `issuer` with one of its JWKS keys. Options are checked here: a bad option
 * throws a `TypeError`. The returned function resolves to the {@link Auth} of
 * a valid token and rejects with a {@link TokenError} otherwise.
 *
 * A token whose key is cached is verified synchronously, without I/O: the
 * compact form is split by hand, the header checked, and the signature
 * checked with `crypto.verify` (EdDSA: with libsodium when it loads, see ed25519.ts)
 * against a key imported once.
 *
 * @example
 * ```ts
 * const verify = createVerifier({ issuer: 'https://auth.example.com', audience: 'authcenter' })
 * const auth = await verify(token, { scope: 'profile:write' })
 * auth.sub // the user id
 * ```
 */
export function createVerifier (options: VerifierOptions): Verifier {
  const resolved = resolveOptions(options)
  const { issuer, algorithms, clockTolerance, maxTokenBytes } = resolved
  const audiences = new Set(resolved.audience)
  const keySet = new RemoteKeySet(resolved)
  const headers = new Map<string, Header>()
  // The header segment that verified last, and its parsed form: nearly every
  // token of an issuer starts with it, so `startsWith` avoids slicing and hashing it.
  let lastHeaderSegment = '\u0000'
  let lastHeader: Header | undefined
  const cache = resolved.cacheMax > 0 ? new TokenCache(resolved.cacheMax) : undefined
  const onCache = cache === undefined ? undefined : resolved.metrics?.onCache
  // Holds the signing input, then the decoded claims, of the token being
  // verified: both are consumed synchronously, so one buffer serves every call
  // (grown, up to maxTokenBytes, for a longer token).
  let scratch = Buffer.allocUnsafe(Math.min(maxTokenBytes, 16_384))
  // Tokens of one issuer carry a handful of distinct scope strings: each is split
  // and frozen once, and the Auths of tokens with equal scopes share the array.
  const scopeLists = new Map<string, readonly string[]>()

  function scopeList (scope: string | undefined): readonly string[] {
    if (scope === undefined) return NO_SCOPES
    let list = scopeLists.get(scope)
    if (list === undefined) {
      list = Object.freeze(scope.split(' ').filter((s) => s.length > 0))
      if (scopeLists.size >= SCOPE_LIST_CACHE_SIZE) scopeLists.clear()
      scopeLists.set(scope, list)
    }
    return list
  }

  // Checks that run on every verified token, after the signature and claims
  // and before the scope check. Kept synchronous so the hot path stays free
  // of I/O.
  const checks: Array<(auth: Auth, now: number) => void> = []
  // DPoP proofs are single use: remembered per verifier (bounded), or in a shared cache you pass.
  const dpopReplay = options.dpop?.replay ?? createMemoryReplayCache()
  const dpopNonces = options.dpop?.nonceSecret === undefined ? undefined : createDpopNonces(options.dpop.nonceSecret)
  const revocation = resolved.revocation === undefined ? undefined : createRevocationList(resolved.revocation, resolved.issuer)
  if (revocation !== undefined) checks.push((auth, now) => revocation.check(auth, now))

  function parseHeader (segment: string): Header {
    const header = decodeJson(segment, 'header')
    if (!isObject(header)) throw malformed('the header is not a JSON object')
    const { alg, typ, kid } = header
    if (typeof alg !== 'string') throw invalid('the header has no "alg"')
    const spec = algorithms.get(alg)
    if (spec === undefined) throw invalid(`algorithm ${JSON.stringify(alg.slice(0, 20))} is not accepted`)
    if (typeof typ !== 'string') throw invalid('the header "typ" must be "at+jwt"')
    const type = typ.toLowerCase()
    if (type !== 'at+jwt' && type !== 'application/at+jwt') throw invalid('the header "typ" must be "at+jwt"')
    for (const name of REFUSED_HEADERS) {
      if (Object.hasOwn(header, name)) throw invalid(`the header parameter "${name}" is not accepted`)
    }
    if (!nonEmptyString(kid)) throw invalid('the header has no "kid"')
    return { spec, kid }
  }

  function checkClaims (claims: Record<string, unknown>, now: number): Auth {
    if (claims.iss !== issuer) throw invalid('unexpected "iss"')
    const { aud } = claims
    if (typeof aud === 'string' ? !audiences.has(aud) : !(Array.isArray(aud) && aud.some((a) => audiences.has(a)))) {
      throw invalid('unexpected "aud"')
    }
    const { sub, jti, exp, iat, nbf, scope, sid, client_id: clientId } = claims
    if (!nonEmptyString(sub)) throw invalid('missing "sub"')
    if (!nonEmptyString(jti)) throw invalid('missing "jti"')
    if (typeof exp !== 'number' || !Number.isFinite(exp)) throw invalid('missing "exp"')
    if (typeof iat !== 'number' || !Number.isFinite(iat)) throw invalid('missing "iat"')
    if (nbf !== undefined && (typeof nbf !== 'number' || !Number.isFinite(nbf))) throw invalid('invalid "nbf"')
    if (scope !== undefined && typeof scope !== 'string') throw invalid('invalid "scope"')
    if (sid !== undefined && typeof sid !== 'string') throw invalid('invalid "sid"')
    if (clientId !== undefined && typeof clientId !== 'string') throw invalid('invalid "client_id"')
    const kindClaim = claims.ac_kind
    if (kindClaim !== undefined && typeof kindClaim !== 'string') throw invalid('invalid "ac_kind"')
    // Only a positive marker makes a token first-party (or a client's own): anything else is third-party.
    const kind: TokenKind = kindClaim === 'first-party' || kindClaim === 'client' ? kindClaim : 'third-party'

    const seconds = now / 1000
    if (exp <= seconds - clockTolerance) throw new TokenError('TOKEN_EXPIRED', 'the token has expired')
    if (nbf !== undefined && nbf > seconds + clockTolerance) throw invalid('the token is not yet valid ("nbf")')
    if (iat > seconds + clockTolerance) throw invalid('"iat" is in the future')

    // Frozen, claims included: a cached Auth is shared by every call with the same
    // token, so no caller may change what the next call's checks read.
    return Object.freeze({
      sub,
      kind,
      firstParty: kind === 'first-party',
      sid,
      clientId,
      scope: scopeList(scope) as string[],
      claims: deepFreeze(claims)
    })
  }

  /**
   * Sender-constrained tokens: a DPoP-bound token (RFC 9449) needs the `DPoP` scheme
   * and a proof for this request signed by the bound key (checked on every call,
   * replay included); a cookie-bound token needs its fingerprint cookie.
   */
  function checkBinding (token: string, claims: Record<string, unknown>, o: VerifyOptions | undefined, now: number): Promise<void> | undefined {
    const cnf = claims.cnf
    if (cnf === undefined) {
      // The usual case: an unbound token; only the DPoP scheme is wrong with it.
      if (o?.scheme !== undefined && o.scheme.toLowerCase() === 'dpop') throw new TokenError('INVALID_DPOP_PROOF', 'the DPoP scheme was used with a token that is not DPoP-bound')
      return undefined
    }
    const jkt = isObject(cnf) && typeof cnf.jkt === 'string' ? cnf.jkt : undefined
    const scheme = o?.scheme?.toLowerCase()
    if (isObject(cnf) && typeof cnf.fgp === 'string' && jkt === undefined && scheme !== 'dpop') {
      if (!fingerprintMatches(o?.fingerprint, cnf.fgp)) {
        throw new TokenError('TOKEN_BINDING_MISMATCH', 'the token is bound to a fingerprint cookie that did not come with it')
      }
      return undefined
    }
    return checkBindingAsync(token, cnf, jkt, scheme, o, now)
  }

  async function checkBindingAsync (token: string, cnf: unknown, jkt: string | undefined, scheme: string | undefined, o: VerifyOptions | undefined, now: number): Promise<void> {
    if (jkt === undefined) {
      if (scheme === 'dpop') throw new TokenError('INVALID_DPOP_PROOF', 'the DPoP scheme was used with a token that is not DPoP-bound')
    } else {
      if (scheme === 'bearer') throw new TokenError('INVALID_DPOP_PROOF', 'a DPoP-bound token must be sent with the DPoP scheme')
      const dpop = o?.dpop
      if (dpop === undefined) throw new TokenError('INVALID_DPOP_PROOF', 'a DPoP-bound token needs a DPoP proof')
      try {
        await checkDpopProof({ ...dpop, accessToken: token, jkt, replay: dpopReplay, ...(dpopNonces !== undefined ? { nonces: dpopNonces } : {}), now })
      } catch (err) {
        if (!(err instanceof DpopError)) throw err
        throw new TokenError(err.code, err.message, err.nonce !== undefined ? { nonce: err.nonce } : {})
      }
    }
    if (isObject(cnf) && typeof cnf.fgp === 'string' && !fingerprintMatches(o?.fingerprint, cnf.fgp)) {
      throw new TokenError('TOKEN_BINDING_MISMATCH', 'the token is bound to a fingerprint cookie that did not come with it')
    }
  }

  /** The full verification: header, signature, claims. Caches the answer. */
  function verifyFully (token: string, header: Header, dot1: number, dot2: number, keyMap: KeyMap, keys: readonly VerificationKey[], now: number): Auth {
    if (token.length > scratch.length) scratch = Buffer.allocUnsafe(token.length)
    verifySignature(token, dot1, dot2, header.spec, keys, scratch, resolved.ed25519)
    const claims = decodeClaims(token.slice(dot1 + 1, dot2), scratch)
    if (!isObject(claims)) throw malformed('the payload is not a JSON object')
    const auth = checkClaims(claims, now)
    const exp = claims.exp as number
    if (cache !== undefined && exp * 1000 > now) cache.set(token, auth, exp, keyMap)
    return auth
  }

  async function verify (token: unknown, verifyOptions?: VerifyOptions): Promise<Auth> {
    const required = verifyOptions === undefined ? undefined : requiredScopes(verifyOptions.scope)

    if (token === undefined || token === null || token === '') throw new TokenError('TOKEN_MISSING', 'no access token')
    // Never coerced: an object with a custom toString is not a token.
    if (typeof token !== 'string') throw malformed('the token is not a string')
    if (token.length > maxTokenBytes) throw malformed(`the token is longer than ${maxTokenBytes} bytes`)

    let now = Date.now()
    let keyMap = keySet.current(now)
    let auth = cache?.get(token, keyMap, now / 1000)
    if (onCache !== undefined) onCache(auth !== undefined)
    if (auth === undefined) {
      let dot1: number
      let header: Header | undefined
      if (lastHeader !== undefined && token.startsWith(lastHeaderSegment) && token.charCodeAt(lastHeaderSegment.length) === DOT) {
        dot1 = lastHeaderSegment.length
        header = lastHeader
      } else {
        dot1 = token.indexOf('.')
      }
      const dot2 = dot1 === -1 ? -1 : token.indexOf('.', dot1 + 1)
      if (dot2 === -1 || token.indexOf('.', dot2 + 1) !== -1) {
        throw malformed('the token is not a compact JWS (three dot-separated segments; encrypted tokens are not accepted)')
      }
      let headerSegment: string | undefined
      if (header === undefined) {
        headerSegment = token.slice(0, dot1)
        header = headers.get(headerSegment)
        if (header === undefined) {
          if (!BASE64URL.test(headerSegment)) throw malformed('the header is not base64url')
          header = parseHeader(headerSegment)
        } else {
          headerSegment = undefined // known already
        }
      }

      const { kid } = header
      let keys = keyMap?.get(kid)
      if (keys === undefined) {
        // Junk is refused before it can cause a JWKS fetch.
        checkSegments(token, dot1, dot2)
        await keySet.resolve(kid)
        now = Date.now()
        keyMap = keySet.current(now)
        keys = keyMap?.get(kid)
        if (keyMap === undefined || keys === undefined) throw invalid(`no key with kid ${JSON.stringify(kid.slice(0, 64))}`)
      }
      auth = verifyFully(token, header, dot1, dot2, keyMap!, keys, now)
      if (headerSegment !== undefined) {
        if (headers.size >= HEADER_CACHE_SIZE) headers.clear()
        headers.set(headerSegment, header)
      }
      if (lastHeader !== header) {
        lastHeaderSegment = token.slice(0, dot1)
        lastHeader = header
      }
    }

    if (revocation !== undefined) {
      // Only while the first revocation list loads in 'closed' mode (bounded by maxStaleness).
      const loading = revocation.pending(now)
      if (loading !== undefined) {
        await loading
        now = Date.now()
      }
    }
    for (const check of checks) check(auth, now)
    const binding = checkBinding(token, auth.claims, verifyOptions, now)
    if (binding !== undefined) await binding

    if (required !== undefined) {
      const scopes = auth.scope
      for (const scope of required) {
        if (!scopes.includes(scope)) throw new TokenError('INSUFFICIENT_SCOPE', `the token lacks scope "${scope}"`)
      }
    }
    return auth
  }

  // Only with an onVerify hook is the verify function wrapped: without one, not a single extra step.
  const onVerify = resolved.metrics?.onVerify
  // `.then` rather than an async wrapper: one promise more per call, not two.
  const counted = onVerify === undefined
    ? undefined
    : {
        ok: (auth: Auth): Auth => { onVerify('OK'); return auth },
        refused: (err: unknown): never => { onVerify(err instanceof TokenError ? err.code : 'ERROR'); throw err }
      }
  const entry = counted === undefined
    ? verify
    : (token: unknown, verifyOptions?: VerifyOptions): Promise<Auth> => verify(token, verifyOptions).then(counted.ok, counted.refused)

  return Object.assign(entry, {
    verify: entry,
    close: async () => {
      keySet.close()
      cache?.clear()
      await revocation?.close()
    },
    ready: () => revocation === undefined ? Promise.resolve() : revocation.ready(),
    revocation: revocation?.state,
    cache: cache === undefined
      ? undefined
      : { get size () { return cache.size }, max: cache.max, clear: () => cache.clear() }
  })
}

/** Freezes a JSON object and everything in it (iteratively: nesting depth is the signer's choice). */
function deepFreeze<T extends object> (value: T): T {
  Object.freeze(value)
  let stack: object[] | undefined
  for (const name in value) {
    const item = (value as Record<string, unknown>)[name]
    if (typeof item === 'object' && item !== null) (stack ??= []).push(item)
  }
  while (stack !== undefined && stack.length > 0) {
    const object = stack.pop()! as Record<string, unknown>
    Object.freeze(object)
    for (const name in object) {
      const item = object[name]
      if (typeof item === 'object' && item !== null) stack.push(item)
    }
  }
  return value
}

/**
 * The refusal for payload and signature segments that cannot be what an
 * issuer signed: TOKEN_MALFORMED when one is not base64url, else `otherwise`.
 * Only on the refusal path: a signature over the exact bytes of the token
 * vouches for the payload, and the signature is checked by length and alphabet.
 */
function checkSegments (token: string, dot1: number, dot2: number, otherwise?: TokenError): void {
  if (!BASE64URL.test(token.slice(dot1 + 1, dot2))) throw malformed('the payload is not base64url')
  if (!BASE64URL.test(token.slice(dot2 + 1))) throw malformed('the signature is not base64url')
  if (otherwise !== undefined) throw otherwise
}

/** The value of a base64url character (only called on one that was checked elsewhere or whose spare bits are tested). */
function base64urlValue (code: number): number {
  if (code >= 97) return code - 71 // a-z
  if (code >= 65) return code - 65 // A-Z
  if (code >= 48) return code + 4 // 0-9
  return code === 45 ? 62 : 63 // - or _
}

function verifySignature (
  token: string,
  dot1: number,
  dot2: number,
  spec: AlgorithmSpec,
  keys: readonly VerificationKey[],
  scratch: Buffer,
  ed25519: Ed25519
): void {
  for (const key of keys) {
    const algorithmKey = key.byAlgorithm.get(spec.name)
    if (algorithmKey === undefined) continue
    const { signatureBytes, signatureChars } = algorithmKey
    // The signature must be exactly the unpadded base64url of a signature of this
    // key: its length, no '+' or '/' (Buffer decodes both alphabets), zero spare
    // bits in the last character (one encoding per signature), every character
    // ASCII (checked below on the whole token) and none skipped by the decoder
    // (the decoded length). So no two token strings carry the same signature.
    if (token.length - dot2 - 1 !== signatureChars ||
        token.indexOf('+', dot2) !== -1 || token.indexOf('/', dot2) !== -1 ||
        (base64urlValue(token.charCodeAt(token.length - 1)) & SPARE_BITS[signatureBytes % 3]!) !== 0) {
      checkSegments(token, dot1, dot2, invalid('the signature is invalid'))
    }
    // Only ASCII: latin1 would turn a character above U+00FF into the byte the
    // issuer signed (U+0141 into 'A'), and the decoders alias such characters too.
    const signature = Buffer.from(token.slice(dot2 + 1), 'base64url')
    if (Buffer.byteLength(token, 'utf8') !== token.length || signature.length !== signatureBytes) {
      checkSegments(token, dot1, dot2, invalid('the signature is invalid'))
    }
    let valid: boolean
    try {
      // The signing input, written into the scratch buffer (ASCII, checked above).
      scratch.write(token, 0, dot2, 'latin1')
      const input = scratch.subarray(0, dot2)
      const edKey = algorithmKey.ed25519
      valid = edKey !== undefined ? ed25519.verify(edKey, input, signature) : cryptoVerify(spec.hash, input, algorithmKey.argument, signature)
    } catch (err) {
      checkSegments(token, dot1, dot2)
      throw invalid('the signature is invalid', err)
    }
    if (!valid) checkSegments(token, dot1, dot2, invalid('the signature is invalid'))
    return
  }
  throw invalid(`the key ${JSON.stringify(keys[0]!.kid.slice(0, 64))} cannot verify ${spec.name}`)
}

// Bits of the last base64url character that carry no signature bit, by signature length mod 3.
const SPARE_BITS = [0, 0x0f, 0x03]
