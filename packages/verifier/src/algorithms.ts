import { constants } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { importEd25519PublicKey } from './ed25519.js'

/** The JWS algorithms this verifier can check. All asymmetric: HS* and `none` are never accepted. */
export type Algorithm =
  | 'EdDSA' | 'Ed25519'
  | 'ES256' | 'ES384' | 'ES512'
  | 'RS256' | 'RS384' | 'RS512'
  | 'PS256' | 'PS384' | 'PS512'

/** How to call `crypto.verify` for one algorithm, and which keys fit it. */
export interface AlgorithmSpec {
  readonly name: Algorithm
  /** First argument of `crypto.verify`: `null` for EdDSA, else the hash. */
  readonly hash: string | null
  /** Extra fields of the key argument of `crypto.verify` (signature encoding, RSA padding). */
  readonly verifyOptions: Readonly<{ dsaEncoding?: 'ieee-p1363', padding?: number, saltLength?: number }>
  /** Whether a public key may verify this algorithm (key type, curve, RSA size). */
  readonly fits: (key: KeyObject) => boolean
  /** Length in bytes of every valid signature by a key that fits (fixed per curve, the modulus size for RSA). */
  readonly signatureBytes: (key: KeyObject) => number
}

// A small-order key verifies forged signatures on Node 20 and 22 (see ed25519-small-order.ts);
// a non-canonical one (y ≥ p) is refused by libsodium: neither fits, whatever the backend.
const ed25519 = (key: KeyObject): boolean => key.asymmetricKeyType === 'ed25519' && importEd25519PublicKey(key) !== undefined
const curve = (name: string) => (key: KeyObject): boolean =>
  key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === name
// RFC 7518 §3.3: RSA keys of 2048 bits or larger MUST be used.
const rsa = (key: KeyObject): boolean =>
  key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048
const rsaPss = (key: KeyObject): boolean =>
  (key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss') &&
  (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048

const fixed = (bytes: number) => (): number => bytes
const modulusBytes = (key: KeyObject): number => Math.ceil((key.asymmetricKeyDetails?.modulusLength ?? 0) / 8)

const pss = (saltLength: number) => ({ padding: constants.RSA_PKCS1_PSS_PADDING, saltLength })

const specs: AlgorithmSpec[] = [
  { name: 'EdDSA', hash: null, verifyOptions: {}, fits: ed25519, signatureBytes: fixed(64) },
  { name: 'Ed25519', hash: null, verifyOptions: {}, fits: ed25519, signatureBytes: fixed(64) },
  { name: 'ES256', hash: 'sha256', verifyOptions: { dsaEncoding: 'ieee-p1363' }, fits: curve('prime256v1'), signatureBytes: fixed(64) },
  { name: 'ES384', hash: 'sha384', verifyOptions: { dsaEncoding: 'ieee-p1363' }, fits: curve('secp384r1'), signatureBytes: fixed(96) },
  { name: 'ES512', hash: 'sha512', verifyOptions: { dsaEncoding: 'ieee-p1363' }, fits: curve('secp521r1'), signatureBytes: fixed(132) },
  { name: 'RS256', hash: 'sha256', verifyOptions: {}, fits: rsa, signatureBytes: modulusBytes },
  { name: 'RS384', hash: 'sha384', verifyOptions: {}, fits: rsa, signatureBytes: modulusBytes },
  { name: 'RS512', hash: 'sha512', verifyOptions: {}, fits: rsa, signatureBytes: modulusBytes },
  { name: 'PS256', hash: 'sha256', verifyOptions: pss(32), fits: rsaPss, signatureBytes: modulusBytes },
  { name: 'PS384', hash: 'sha384', verifyOptions: pss(48), fits: rsaPss, signatureBytes: modulusBytes },
  { name: 'PS512', hash: 'sha512', verifyOptions: pss(64), fits: rsaPss, signatureBytes: modulusBytes }
]

/** Every supported algorithm by its JWS `alg` name. */
export const algorithmSpecs: ReadonlyMap<string, AlgorithmSpec> = new Map(specs.map((s) => [s.name, s]))

/** `algorithms` when the option is not given. */
export const defaultAlgorithms: readonly Algorithm[] = ['EdDSA', 'ES256', 'RS256']
