import { randomString } from '../tokens/random.js'
import type { DenyEntries } from './sessions/sessions.js'

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
 * Whether the denylist refuses a token, the rules a verifier applies
 * (docs/revocation-protocol.md): issued before the epoch, its `sid` has a live `s:`
 * entry, or its `sub` a live `u:` entry revoked at or after the token's `iat` (in ms)
 * that does not except its `sid`. For tokens whose grant is not stored (client credentials).
 */
export function tokenDenied (entries: DenyEntries, token: { sid: string, iatMs: number }, now: number): boolean {
  // A malformed epoch (NaN) refuses, the safe side.
  if (entries.epoch !== undefined && !(token.iatMs >= epochCreatedAt(entries.epoch))) return true
  if (entries.session !== undefined) {
    const s = parseDenyValue(entries.session)
    if (s === undefined || s.expiresAt > now) return true
  }
  if (entries.user !== undefined) {
    const u = parseDenyValue(entries.user)
    if (u === undefined) return true
    if (u.expiresAt > now && token.iatMs <= u.revokedAt && u.exceptSid !== token.sid) return true
  }
  return false
}

/** What a driver's `denyEntriesOf` read, each value kept only when present (a driver's missing reads are null or undefined). */
export function denyEntries (epoch: string | null | undefined, session: string | null | undefined, user: string | null | undefined): DenyEntries {
  const out: DenyEntries = {}
  if (typeof epoch === 'string') out.epoch = epoch
  if (typeof session === 'string') out.session = session
  if (typeof user === 'string') out.user = user
  return out
}

/**
 * A fresh epoch value `<createdAtMs>:<random>`, at millisecond resolution: access
 * tokens carry `iat` in milliseconds (a fractional NumericDate, tokens/access-token.ts),
 * and a token is refused when `iatMs < createdAtMs` (docs/revocation-protocol.md).
 */
export function newEpoch (now: number): string {
  return `${Math.floor(now)}:${randomString(8, 'hex')}`
}

/**
 * Feed cursors (docs/revocation-protocol.md): `<epoch tag>.<ms>-<seq>`, opaque to
 * verifiers. The tag is the epoch's random part, so a cursor from before a store reset
 * (or from another store) is recognised as such; the position is the entry's place in
 * the store's log (a Redis Stream id; the memory driver uses `0-<n>`).
 */
export function formatCursor (epoch: string, position: string): string {
  return `${epochTag(epoch)}.${position}`
}

export function epochTag (epoch: string): string {
  const colon = epoch.indexOf(':')
  return colon === -1 ? epoch : epoch.slice(colon + 1)
}

/** The epoch's `<createdAtMs>` part as a number (NaN when malformed). */
export function epochCreatedAt (epoch: string): number {
  const colon = epoch.indexOf(':')
  return Number(colon === -1 ? epoch : epoch.slice(0, colon))
}

export interface ParsedCursor {
  tag: string
  position: string
  ms: number
  seq: number
}

export function parseCursor (cursor: string): ParsedCursor | undefined {
  const m = /^([0-9a-f]{1,64})\.(\d{1,16})-(\d{1,16})$/.exec(cursor)
  if (m === null) return undefined
  return { tag: m[1]!, position: `${m[2]}-${m[3]}`, ms: Number(m[2]), seq: Number(m[3]) }
}

/** Orders two log positions `<ms>-<seq>`: negative when a comes first. */
export function comparePositions (a: string, b: string): number {
  const [am, as] = a.split('-').map(Number) as [number, number]
  const [bm, bs] = b.split('-').map(Number) as [number, number]
  return am !== bm ? am - bm : as - bs
}

/** How many entries the store's feed log keeps (newest); a cursor older than that gets `reset`. */
export const DEFAULT_FEED_LOG_MAX = 10_000

export function assertDenyTtl (denyTtlMs: number, who: string): void {
  if (!Number.isFinite(denyTtlMs) || denyTtlMs <= 0) throw new TypeError(`${who}: denyTtlMs must be a positive number`)
}
