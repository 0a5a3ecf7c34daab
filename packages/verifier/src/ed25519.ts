/**
 * Ed25519 through libsodium (`sodium-native`, an optional dependency) when it loads, else
 * node:crypto. Both backends give the same answer for every key and signature: the rules
 * where OpenSSL and libsodium differ are checked here first, the stricter one winning
 * (see the "Ed25519 backends" section of the README), so a library only ever decides the
 * equation itself. `AUTHCENTER_ED25519=node|sodium` forces one (tests, benchmarks).
 *
 * Published as `@authcenter/verifier/ed25519` so the auth center signs through the same code.
 */
import { createRequire } from 'node:module'
import { createPublicKey, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { isCanonicalPoint, isCanonicalScalar } from './ed25519-encoding.js'
import { isSmallOrderEncoding } from './ed25519-small-order.js'

type Sodium = typeof import('sodium-native')

export type Ed25519BackendName = 'sodium' | 'node'

/** A public key imported once (canonical, not of small order); usable by either backend. */
export interface Ed25519PublicKey {
  /** The 32-byte encoding (RFC 8032 §5.1.2). */
  readonly bytes: Buffer
  readonly keyObject: KeyObject
}

/** A private key imported once by one backend's `importPrivateKey`. */
export interface Ed25519PrivateKey {
  readonly keyObject: KeyObject
  /** libsodium's 64-byte secret key (seed ‖ public key); only from the sodium backend (without it, sodium signs through node:crypto). */
  readonly secretKey?: Buffer
}

export interface Ed25519 {
  readonly name: Ed25519BackendName
  /**
   * The key to verify with, or `undefined` for one that must verify nothing: not 32 bytes,
   * not an Ed25519 key, a non-canonical encoding (y ≥ p) or a point of small order.
   */
  importPublicKey: (key: Buffer | KeyObject) => Ed25519PublicKey | undefined
  /** RFC 8032 verification, refusing what either library refuses: S ≥ L, a small-order or non-canonical R, a wrong length. */
  verify: (key: Ed25519PublicKey, message: Buffer, signature: Buffer) => boolean
  /** An Ed25519 private `KeyObject`, prepared once for `sign`. */
  importPrivateKey: (key: KeyObject) => Ed25519PrivateKey
  /** The 64-byte signature (deterministic: both backends give the same bytes). */
  sign: (key: Ed25519PrivateKey, message: Buffer) => Buffer
}

/** The environment variable that forces a backend. */
export const ED25519_ENV = 'AUTHCENTER_ED25519'

/** The DER prefix of every Ed25519 SubjectPublicKeyInfo (RFC 8410); the 32 key bytes follow it. */
const SPKI_PREFIX = 12

let sodium: Sodium | null | undefined
let sodiumError: unknown

/** sodium-native, loaded on first use; `null` when it is not installed or cannot load (no prebuilt binary, permission model). */
function loadSodium (): Sodium | null {
  if (sodium === undefined) {
    try {
      // Never a static import: the package must work without the optional dependency.
      sodium = createRequire(import.meta.url)('sodium-native') as Sodium
    } catch (err) {
      sodium = null
      sodiumError = err
    }
  }
  return sodium
}

/** Whether libsodium can be used here. */
export function sodiumAvailable (): boolean {
  return loadSodium() !== null
}

/** The same as `importPublicKey` of either backend (the checks and the key do not depend on the library). */
export function importEd25519PublicKey (key: Buffer | KeyObject): Ed25519PublicKey | undefined {
  let bytes: Buffer
  let keyObject: KeyObject
  try {
    if (Buffer.isBuffer(key)) {
      if (key.length !== 32) return undefined
      bytes = Buffer.from(key)
      keyObject = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: bytes.toString('base64url') }, format: 'jwk' })
    } else {
      if (key.type !== 'public' || key.asymmetricKeyType !== 'ed25519') return undefined
      keyObject = key
      bytes = Buffer.from(key.export({ type: 'spki', format: 'der' }).subarray(SPKI_PREFIX))
      if (bytes.length !== 32) return undefined
    }
  } catch {
    return undefined // some runtimes refuse an encoding at import already
  }
  if (!isCanonicalPoint(bytes) || isSmallOrderEncoding(bytes)) return undefined
  return Object.freeze({ bytes, keyObject })
}

/**
 * What must hold before either library is asked: a 64-byte signature whose R is a canonical
 * encoding of a point not of small order (libsodium refuses the rest, OpenSSL accepts a
 * small-order R), and whose S is below L (RFC 8032 §5.1.7, against malleability).
 */
function wellFormed (signature: Buffer): boolean {
  return signature.length === 64 && isCanonicalScalar(signature, 32) && isCanonicalPoint(signature, 0) && !isSmallOrderEncoding(signature, 0)
}

function importPrivateKey (key: KeyObject): KeyObject {
  if (key.type !== 'private' || key.asymmetricKeyType !== 'ed25519') throw new TypeError('not an Ed25519 private key')
  return key
}

const nodeBackend: Ed25519 = Object.freeze({
  name: 'node' as const,
  importPublicKey: importEd25519PublicKey,
  verify (key: Ed25519PublicKey, message: Buffer, signature: Buffer): boolean {
    if (!wellFormed(signature)) return false
    try {
      return cryptoVerify(null, message, key.keyObject, signature)
    } catch {
      return false
    }
  },
  importPrivateKey: (key: KeyObject): Ed25519PrivateKey => Object.freeze({ keyObject: importPrivateKey(key) }),
  sign: (key: Ed25519PrivateKey, message: Buffer): Buffer => cryptoSign(null, message, key.keyObject)
})

function sodiumBackend (lib: Sodium): Ed25519 {
  return Object.freeze({
    name: 'sodium' as const,
    importPublicKey: importEd25519PublicKey,
    verify (key: Ed25519PublicKey, message: Buffer, signature: Buffer): boolean {
      return wellFormed(signature) && lib.crypto_sign_verify_detached(signature, message, key.bytes)
    },
    importPrivateKey (key: KeyObject): Ed25519PrivateKey {
      const keyObject = importPrivateKey(key)
      const seed = Buffer.from(String(keyObject.export({ format: 'jwk' }).d), 'base64url')
      const publicKey = Buffer.alloc(32)
      const secretKey = Buffer.alloc(64)
      lib.crypto_sign_seed_keypair(publicKey, secretKey, seed)
      seed.fill(0)
      return Object.freeze({ keyObject, secretKey })
    },
    sign (key: Ed25519PrivateKey, message: Buffer): Buffer {
      // A key imported by the node backend: the same signature through node:crypto.
      if (key.secretKey === undefined) return cryptoSign(null, message, key.keyObject)
      const signature = Buffer.alloc(64)
      lib.crypto_sign_detached(signature, message, key.secretKey)
      return signature
    }
  })
}

let sodiumInstance: Ed25519 | undefined

/**
 * The backend `name`, or (without one) the one `AUTHCENTER_ED25519` asks for, or libsodium
 * when it loads and node:crypto otherwise. Throws a `TypeError` for another value of the
 * variable, or when libsodium is asked for and cannot be loaded (a forced choice never
 * falls back silently).
 */
export function ed25519 (name: string | undefined = process.env[ED25519_ENV]): Ed25519 {
  if (name === 'node') return nodeBackend
  if (name !== undefined && name !== '' && name !== 'sodium') {
    throw new TypeError(`${ED25519_ENV} must be "node" or "sodium" (or unset: libsodium when it loads), not ${JSON.stringify(name.slice(0, 20))}`)
  }
  const lib = loadSodium()
  if (lib === null) {
    if (name === 'sodium') throw new TypeError(`${ED25519_ENV}=sodium, but sodium-native cannot be loaded: ${(sodiumError as Error | undefined)?.message ?? sodiumError}`)
    return nodeBackend
  }
  sodiumInstance ??= sodiumBackend(lib)
  return sodiumInstance
}

/** Which library verifies (and signs) Ed25519 in a verifier created now: `'sodium'` or `'node'`. */
export function ed25519Backend (): Ed25519BackendName {
  return ed25519().name
}
