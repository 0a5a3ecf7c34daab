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
  /**
   * Scheduled rotation (key-schedule.ts): published from createdAt, signs from then, so
   * verifiers holding a cached JWKS already know it. Absent: signs from createdAt.
   */
  activatesAt?: number
  /**
   * 'id_token': the RS256 key that signs ID tokens only (OpenID Discovery requires
   * RS256 whatever the access-token algorithm). Absent: the access-token key.
   */
  purpose?: 'id_token'
  privateJwk: JsonWebKey
}

/** ID tokens are RS256 unless a client registers the access-token algorithm instead. */
export const ID_TOKEN_ALG = 'RS256'
/** How long an ID token lives (oauth/id-token.ts): a retired key stays published at least that long. */
export const ID_TOKEN_TTL_MS = 300_000

/** An access-token algorithm other than RS256 needs a second, RS256 key for ID tokens. */
const needsIdTokenKey = (alg: SigningAlg): boolean => alg !== ID_TOKEN_ALG

/** Everything the key store persists, as one document so it changes atomically. */
export interface KeySet {
  version: 1
  /** Bumped on every change: replicas reload when it moves. */
  revision: number
  /** Secret for the refresh-token MAC (base64url, 32 bytes). */
  refreshMacKey: string
  keys: StoredKey[]
}

export function generateKey (alg: SigningAlg, now: number, purpose?: 'id_token', activatesAt?: number): StoredKey {
  const kid = randomBytes(12).toString('base64url')
  let privateJwk: JsonWebKey
  switch (alg) {
    case 'EdDSA': privateJwk = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }); break
    case 'ES256': privateJwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }); break
    case 'RS256': privateJwk = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }); break
    case 'HS256': privateJwk = { kty: 'oct', k: randomBytes(32).toString('base64url') }; break
  }
  return { kid, alg, createdAt: now, ...(purpose !== undefined ? { purpose } : {}), ...(activatesAt !== undefined ? { activatesAt } : {}), privateJwk }
}

export function newKeySet (alg: SigningAlg, now: number): KeySet {
  return { version: 1, revision: 1, refreshMacKey: randomBytes(32).toString('base64url'), keys: freshKeys(alg, now) }
}

/** The access-token key and, unless it is RS256 itself, an ID-token key; `activatesAt` when published ahead. */
export function freshKeys (alg: SigningAlg, now: number, activatesAt?: number): StoredKey[] {
  const access = generateKey(alg, now, undefined, activatesAt)
  return needsIdTokenKey(alg) ? [access, generateKey(ID_TOKEN_ALG, now, 'id_token', activatesAt)] : [access]
}

/** When a key starts signing. */
export const signsFrom = (k: StoredKey): number => k.activatesAt ?? k.createdAt

/** Not retired and already signing at `now` (a key published ahead is not yet). */
const signing = (k: StoredKey, now: number): boolean => k.retiredAt === undefined && signsFrom(k) <= now

/** The ID-token key that signs now, if the set has one (none when access tokens are RS256 themselves). */
export function currentIdTokenKey (set: KeySet, now: number): StoredKey | undefined {
  const live = set.keys.filter((k) => signing(k, now) && k.purpose === 'id_token')
  return live[live.length - 1]
}

/**
 * A key set written before ID-token keys existed gets one (a new revision); any other
 * set is returned as it is.
 */
export function withIdTokenKey (set: KeySet, now: number): KeySet {
  if (!needsIdTokenKey(currentKey(set, now).alg) || currentIdTokenKey(set, now) !== undefined) return set
  return { ...set, revision: set.revision + 1, keys: [...set.keys, generateKey(ID_TOKEN_ALG, now, 'id_token')] }
}

/** The access-token key that signs now: the newest one that is not retired and has started signing. */
export function currentKey (set: KeySet, now: number): StoredKey {
  const live = set.keys.filter((k) => signing(k, now) && k.purpose === undefined)
  const key = live[live.length - 1]
  if (key === undefined) throw new Error('key set has no current signing key')
  return key
}

/**
 * Retires the current keys (the access-token key and the ID-token key: both rotate)
 * and appends fresh ones. A retired key stays published for the longest lifetime of a
 * token it may have signed (`maxTokenLifetimeMs`, at least an ID token's), so those
 * tokens keep verifying until they expire. Keys published ahead by the schedule never
 * signed anything: they are dropped (the schedule starts again from the new keys).
 */
export function rotateKeySet (set: KeySet, alg: SigningAlg, now: number, maxTokenLifetimeMs: number): KeySet {
  const publishUntil = now + Math.max(maxTokenLifetimeMs, ID_TOKEN_TTL_MS)
  const keys = set.keys.filter((k) => signsFrom(k) <= now)
    .map((k) => k.retiredAt === undefined ? { ...k, retiredAt: now, publishUntil } : k)
  keys.push(...freshKeys(alg, now))
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
  // Newest first, access-token keys before ID-token keys, keys published ahead last: verifiers that scan pick the current access-token key soonest.
  const kept = [...prune(set.keys, now)].reverse()
  const live = [...kept.filter((k) => signsFrom(k) <= now), ...kept.filter((k) => signsFrom(k) > now)]
  for (const k of [...live.filter((k) => k.purpose === undefined), ...live.filter((k) => k.purpose === 'id_token')]) {
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
