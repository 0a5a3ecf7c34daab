import type { KeyObject } from 'node:crypto'

/**
 * Ed25519 public keys of small order (order 1, 2, 4 or 8) verify a forged signature
 * (R = a small-order point, S = 0) for every message: `[S]B = R + [k]A` holds whatever
 * `k` is. Node 24's `crypto.verify` refuses such signatures; Node 20 (OpenSSL 3.0) and
 * Node 22 accept them. A DPoP proof key is chosen by the client, so the verifier refuses
 * these keys itself, on every runtime.
 *
 * The encodings of the eight small-order points, canonical or not (y ≥ p), with the sign
 * bit cleared: the list libsodium checks in `ge25519_has_small_order`.
 */
const SMALL_ORDER: readonly Buffer[] = [
  '0000000000000000000000000000000000000000000000000000000000000000', // y = 0 (order 4)
  '0100000000000000000000000000000000000000000000000000000000000000', // y = 1, the identity
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05', // order 8
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', // order 8
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // y = p - 1 (order 2)
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // y = p, i.e. 0, not canonical
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f' // y = p + 1, i.e. 1, not canonical
].map((hex) => Buffer.from(hex, 'hex'))

/** The DER prefix of every Ed25519 SubjectPublicKeyInfo (RFC 8410); the 32 key bytes follow it. */
const SPKI_PREFIX = 12

/**
 * Whether the 32 bytes at `offset` encode a small-order point: as a public key or as the
 * `R` half of a signature (a small-order `R`, which OpenSSL accepts and libsodium refuses).
 */
export function isSmallOrderEncoding (bytes: Uint8Array, offset = 0): boolean {
  const last = bytes[offset + 31]! & 0x7f
  for (const p of SMALL_ORDER) {
    if (p[31] === last && p.compare(bytes, offset, offset + 31, 0, 31) === 0) return true
  }
  return false
}

/** Whether an Ed25519 public key is one of the small-order points (which prove nothing). */
export function hasSmallOrder (key: KeyObject): boolean {
  const a = key.export({ type: 'spki', format: 'der' }).subarray(SPKI_PREFIX)
  return a.length !== 32 || isSmallOrderEncoding(a)
}
