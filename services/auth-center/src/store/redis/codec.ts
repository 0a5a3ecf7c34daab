import type { Session, User } from '../store.js'

/**
 * Users and sessions are Redis hashes, one field per property, so that Lua scripts
 * can read and change single fields (`refreshGen`, `revokedAt`) without decoding
 * the whole record. Every value in Redis is a string; the field specs below say
 * which ones come back as numbers, and which may be absent (an absent optional
 * field is never written, so it stays absent instead of becoming "undefined").
 */

type FieldKind = 'string' | 'number' | 'string?' | 'number?'
type FieldSpec<T> = { readonly [K in keyof Required<T>]: FieldKind }

const userSpec: FieldSpec<User> = {
  id: 'string',
  mobile: 'string',
  passwordHash: 'string?',
  createdAt: 'number',
  passwordChangedAt: 'number?'
}

const sessionSpec: FieldSpec<Session> = {
  id: 'string',
  userId: 'string',
  clientId: 'string',
  deviceName: 'string?',
  ip: 'string?',
  userAgent: 'string?',
  createdAt: 'number',
  lastUsedAt: 'number',
  expiresAt: 'number',
  refreshGen: 'number',
  rotatedAt: 'number',
  refreshNonce: 'string',
  revokedAt: 'number?',
  revokedReason: 'string?',
  jkt: 'string?',
  fgpHash: 'string?',
  scope: 'string?',
  kind: 'string?'
}

/** `[field, value, field, value, …]` for HSET, skipping absent optional fields. */
function encode<T extends object> (record: T, spec: FieldSpec<T>): string[] {
  const out: string[] = []
  for (const field of Object.keys(spec) as Array<keyof T & string>) {
    const value: unknown = record[field]
    if (value === undefined) continue
    out.push(field, String(value))
  }
  return out
}

/**
 * A hash back into a record, or null when the hash is empty (the key does not exist).
 * A hash missing a required field or holding a non-number where a number belongs
 * throws: that is a bug or foreign data, and must not pass for "no such record".
 */
function decode<T extends object> (hash: Record<string, string>, spec: FieldSpec<T>, what: string): T | null {
  if (Object.keys(hash).length === 0) return null
  const out: Record<string, string | number> = {}
  for (const [field, kind] of Object.entries(spec) as Array<[string, FieldKind]>) {
    const raw = hash[field]
    if (raw === undefined) {
      if (kind.endsWith('?')) continue
      throw new Error(`corrupt ${what} in redis: field ${field} is missing`)
    }
    if (kind.startsWith('number')) {
      const n = Number(raw)
      if (raw === '' || !Number.isFinite(n)) throw new Error(`corrupt ${what} in redis: field ${field} is not a number`)
      out[field] = n
    } else {
      out[field] = raw
    }
  }
  return out as T
}

export const encodeUser = (u: User): string[] => encode(u, userSpec)
export const encodeSession = (s: Session): string[] => encode(s, sessionSpec)
export const decodeUser = (hash: Record<string, string>): User | null => decode(hash, userSpec, 'user')
export const decodeSession = (hash: Record<string, string>): Session | null => decode(hash, sessionSpec, 'session')

/** A Lua script's HGETALL reply (`[field, value, …]`) as an object. */
export function flatToHash (reply: unknown): Record<string, string> {
  if (!Array.isArray(reply)) throw new Error('unexpected redis reply: expected a flat field/value array')
  const hash: Record<string, string> = {}
  for (let i = 0; i + 1 < reply.length; i += 2) hash[String(reply[i])] = String(reply[i + 1])
  return hash
}

/** A two-element script reply, e.g. `{created, HGETALL}` or `{count, ttl}`. */
export function pair (reply: unknown): [unknown, unknown] {
  if (!Array.isArray(reply) || reply.length !== 2) throw new Error('unexpected redis script reply')
  return [reply[0], reply[1]]
}
