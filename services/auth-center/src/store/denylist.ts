import { randomString } from '../tokens/random.js'

/**
 * The denylist entry format of docs/revocation-protocol.md, shared by both drivers.
 * The Redis driver repeats `mergeUserEntry` in Lua (it must run inside the script);
 * keep the two in step.
 *
 * - field `s:<sid>` (a revoked session) or `u:<userId>` (every token of a user issued
 *   before a time)
 * - value `<revokedAtMs>:<expiresAtMs>[:<exceptSid>]`
 * - message on the channel: `<field>=<value>`
 */

/** Clock tolerance added to the longest access-token lifetime (the protocol's "+ clock tolerance"). */
export const DENY_CLOCK_TOLERANCE_MS = 5_000

/** Default entry lifetime: the default access-token lifetime (2 min) + tolerance. */
export const DEFAULT_DENY_TTL_MS = 120_000 + DENY_CLOCK_TOLERANCE_MS

export const sessionField = (sessionId: string): string => `s:${sessionId}`
export const userField = (userId: string): string => `u:${userId}`

export interface DenyValue {
  revokedAt: number
  expiresAt: number
  exceptSid?: string
}

export function formatDenyValue ({ revokedAt, expiresAt, exceptSid }: DenyValue): string {
  return exceptSid === undefined ? `${revokedAt}:${expiresAt}` : `${revokedAt}:${expiresAt}:${exceptSid}`
}

export function parseDenyValue (value: string): DenyValue | undefined {
  const m = /^(\d+):(\d+)(?::(.+))?$/.exec(value)
  if (m === null) return undefined
  const out: DenyValue = { revokedAt: Number(m[1]), expiresAt: Number(m[2]) }
  if (m[3] !== undefined) out.exceptSid = m[3]
  return out
}

export const denyMessage = (field: string, value: string): string => `${field}=${value}`

/**
 * A new user entry over an existing one: the later revokedAt and expiresAt win (a
 * later user-level revocation kills everything the earlier one did), and the new
 * call's exceptSid applies (the session that made the new call was live then, so the
 * old exception, if another session, was revoked by this call).
 */
export function mergeUserEntry (existing: DenyValue | undefined, next: DenyValue): DenyValue {
  if (existing === undefined) return next
  const merged: DenyValue = {
    revokedAt: Math.max(existing.revokedAt, next.revokedAt),
    expiresAt: Math.max(existing.expiresAt, next.expiresAt)
  }
  if (next.exceptSid !== undefined) merged.exceptSid = next.exceptSid
  return merged
}

/**
 * A fresh epoch value `<createdAtMs>:<random>`. createdAtMs is floored to the whole
 * second: `iat` has one-second resolution, so an epoch created at 12:00:00.700
 * would otherwise refuse a token issued at 12:00:00.800 (iat 12:00:00).
 */
export function newEpoch (now: number): string {
  return `${Math.floor(now / 1000) * 1000}:${randomString(8, 'hex')}`
}

export function assertDenyTtl (denyTtlMs: number, who: string): void {
  if (!Number.isFinite(denyTtlMs) || denyTtlMs <= 0) throw new TypeError(`${who}: denyTtlMs must be a positive number`)
}
