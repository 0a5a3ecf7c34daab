/**
 * Encoding rules of Ed25519 (RFC 8032 §5.1.3, §5.1.7) that node:crypto (OpenSSL) and
 * libsodium do not enforce alike: both backends check them before either library runs,
 * so a token's fate never depends on which library is loaded.
 */

// L, the order of the base point, little-endian: 2^252 + 27742317777372353535851937790883648493.
const L = Buffer.from('edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010', 'hex')

/** Whether the 32 bytes at `offset` are a scalar below L (RFC 8032 §5.1.7: refuse S ≥ L, a malleated signature). */
export function isCanonicalScalar (bytes: Uint8Array, offset = 0): boolean {
  for (let i = 31; i >= 0; i--) {
    const b = bytes[offset + i]!
    const l = L[i]!
    if (b !== l) return b < l
  }
  return false // equal to L
}

/**
 * Whether the 32 bytes at `offset` encode y < p = 2^255 - 19 (the sign bit aside): the one
 * encoding of a point. y ≥ p (19 values) is what libsodium's `ge25519_is_canonical` refuses.
 */
export function isCanonicalPoint (bytes: Uint8Array, offset = 0): boolean {
  if ((bytes[offset + 31]! & 0x7f) !== 0x7f) return true
  for (let i = 30; i > 0; i--) if (bytes[offset + i] !== 0xff) return true
  return bytes[offset]! < 0xed
}
