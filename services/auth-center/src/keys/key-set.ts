import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type JsonWebKey, type KeyObject } from 'node:crypto'

export type SigningAlg = 'EdDSA' | 'ES256' | 'RS256' | 'HS256'

/** One signing key as persisted. Private material never leaves the key store except to sign. */
export interface StoredKey {
  kid: string
  alg: SigningAlg
  createdAt: number
  /** Set when a newer key took over: tokens signed before may still be alive. */
  retiredAt?: number
  /** Published in the JWKS until then: retiredAt + the longest token lifetime signed with it. */
  publishUntil?: number
  privateJwk: JsonWebKey
}

/** Everything the key store persists, as one document so it changes atomically. */
export interface KeySet {
  version: 1
  /** Bumped on every change: replicas reload when it moves. */
  revision: number
  /** Secret for the refresh-token MAC (base64url, 32 bytes). */
  refreshMacKey: string
  keys: StoredKey[]
}

export function generateKey (alg: SigningAlg, now: number): StoredKey {
  const kid = randomBytes(12).toString('base64url')
  let privateJwk: JsonWebKey
  switch (alg) {
    case 'EdDSA': privateJwk = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }); break
    case 'ES256': privateJwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }); break
    case 'RS256': privateJwk = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }); break
    case 'HS256': privateJwk = { kty: 'oct', k: randomBytes(32).toString('base64url') }; break
  }
  return { kid, alg, createdAt: now, privateJwk }
}

export function newKeySet (alg: SigningAlg, now: number): KeySet {
  return { version: 1, revision: 1, refreshMacKey: randomBytes(32).toString('base64url'), keys: [generateKey(alg, now)] }
}

/** The key that signs now: the newest one that is not retired. */
export function currentKey (set: KeySet): StoredKey {
  const live = set.keys.filter((k) => k.retiredAt === undefined)
  const key = live[live.length - 1]
  if (key === undefined) throw new Error('key set has no current signing key')
  return key
}

/**
 * Retires the current key and appends a fresh one. The retired key stays published
 * for `maxTokenLifetimeMs` so tokens it signed keep verifying until they expire.
 */
export function rotateKeySet (set: KeySet, alg: SigningAlg, now: number, maxTokenLifetimeMs: number): KeySet {
  const keys = set.keys.map((k) => k.retiredAt === undefined
    ? { ...k, retiredAt: now, publishUntil: now + maxTokenLifetimeMs }
    : k)
  keys.push(generateKey(alg, now))
  return { ...set, revision: set.revision + 1, keys: prune(keys, now) }
}

/** Drops retired keys whose tokens have all expired. */
export function prune (keys: StoredKey[], now: number): StoredKey[] {
  return keys.filter((k) => k.publishUntil === undefined || k.publishUntil > now)
}

export interface PublicJwk extends JsonWebKey {
  kid: string
  alg: string
  use: 'sig'
}

/** The JWKS document: public halves of the current key and of retired keys still in use. */
export function publicJwks (set: KeySet, now: number): { keys: PublicJwk[] } {
  const keys: PublicJwk[] = []
  // Newest first: verifiers that scan pick the current key soonest.
  for (const k of [...prune(set.keys, now)].reverse()) {
    if (k.alg === 'HS256') continue // a symmetric key is never published
    const pub = createPublicKey({ key: k.privateJwk, format: 'jwk' }).export({ format: 'jwk' })
    keys.push({ ...pub, kid: k.kid, alg: k.alg, use: 'sig' })
  }
  return { keys }
}

export function privateKeyObject (k: StoredKey): KeyObject {
  return createPrivateKey({ key: k.privateJwk, format: 'jwk' })
}

export function isKeySet (v: unknown): v is KeySet {
  if (typeof v !== 'object' || v === null) return false
  const s = v as Partial<KeySet>
  return s.version === 1 && typeof s.revision === 'number' && typeof s.refreshMacKey === 'string' &&
    Array.isArray(s.keys) && s.keys.length > 0
}
