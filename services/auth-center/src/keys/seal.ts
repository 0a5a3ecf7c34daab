import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { KekError, type Kek, type KekRing } from './kek.js'

/**
 * A secret sealed with AES-256-GCM under a KEK. `kek` names the KEK (never the key);
 * the additional data binds the blob to its purpose and to that KEK id, so a blob
 * moved to another purpose (or relabelled with another id) does not open.
 */
export interface SealedBlob {
  kek: string
  alg: 'A256GCM'
  iv: string
  ct: string
  tag: string
}

function aad (purpose: string, kekId: string): Buffer {
  return Buffer.from(`authcenter-seal-v1|${purpose}|${kekId}`)
}

export function seal (kek: Kek, purpose: string, plaintext: Buffer): SealedBlob {
  // A random 96-bit nonce per seal: blobs are few and rarely written, far from GCM's 2^32 bound.
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', kek.key, iv)
  cipher.setAAD(aad(purpose, kek.id))
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()])
  return { kek: kek.id, alg: 'A256GCM', iv: iv.toString('base64url'), ct: ct.toString('base64url'), tag: cipher.getAuthTag().toString('base64url') }
}

export function isSealedBlob (v: unknown): v is SealedBlob {
  if (typeof v !== 'object' || v === null) return false
  const b = v as Partial<SealedBlob>
  return b.alg === 'A256GCM' && typeof b.kek === 'string' && typeof b.iv === 'string' && typeof b.ct === 'string' && typeof b.tag === 'string'
}

/**
 * Opens a blob with whichever KEK of the ring it names. A blob no configured KEK
 * opens is a start-up error naming AUTH_KEK: the caller must never fall back to
 * new keys (tokens already issued would stop verifying, and the store would be
 * overwritten).
 */
export function unseal (ring: KekRing, purpose: string, blob: SealedBlob, where: string): Buffer {
  const kek = [ring.current, ...ring.previous].find((k) => k.id === blob.kek)
  if (kek === undefined) {
    const configured = [ring.current, ...ring.previous].map((k) => k.id).join(', ')
    throw new KekError(`AUTH_KEK: ${where} is sealed with KEK "${blob.kek}", not with the configured ${configured} (set AUTH_KEK, or AUTH_KEK_PREVIOUS during a rotation, to the KEK that sealed it)`)
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', kek.key, Buffer.from(blob.iv, 'base64url'))
    decipher.setAAD(aad(purpose, kek.id))
    decipher.setAuthTag(Buffer.from(blob.tag, 'base64url'))
    return Buffer.concat([decipher.update(Buffer.from(blob.ct, 'base64url')), decipher.final()])
  } catch {
    throw new KekError(`AUTH_KEK: ${where} does not open with KEK "${kek.id}" (wrong key for that id, or the blob was altered or moved)`)
  }
}
