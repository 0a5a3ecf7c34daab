import type { Session, User } from './store.js'

/**
 * Rules both drivers apply the same way, so the contract suite sees one behaviour.
 * The Redis driver repeats `decideRotation` in Lua (it must run inside the script);
 * keep the two in step.
 */

/**
 * How long a session is kept past its `expiresAt`: long enough that a late refresh
 * still answers 'expired' (not 'missing') and `revokeSession` still finds it, short
 * enough that dead sessions do not pile up.
 */
export const SESSION_RETENTION_MARGIN_MS = 24 * 60 * 60 * 1000

/** How long from `now` a session with this `expiresAt` must be kept. */
export function sessionRetentionMs (expiresAt: number, now: number): number {
  return Math.max(Math.ceil(expiresAt - now), 0) + SESSION_RETENTION_MARGIN_MS
}

/** Neither revoked nor past its refresh lifetime. */
export function isLive (session: Session, now: number): boolean {
  return session.revokedAt === undefined && now < session.expiresAt
}

/** Oldest first; ties broken by id so both drivers agree (Redis orders equal scores by member). */
export function byCreatedAt (a: Session, b: Session): number {
  return a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
}

export const REUSED_REASON = 'refresh_token_reused'

export type RotationDecision = 'rotated' | 'grace' | 'reused' | 'expired' | 'revoked'

/**
 * The refresh-token state machine of `RotateStatus`, for a session that exists.
 * A generation newer than the current one cannot come from us (the MAC covers it),
 * so it is treated like any other token that is not current: as reuse.
 */
export function decideRotation (s: Session, presentedGen: number, now: number, graceMs: number): RotationDecision {
  if (s.revokedAt !== undefined) return 'revoked'
  if (now >= s.expiresAt) return 'expired'
  if (presentedGen === s.refreshGen) return 'rotated'
  // A generation ahead of the store's (its MAC proves we issued it): the store lost the
  // rotation that issued it (Redis failover, restore from a backup), not a replay.
  // Rotating from it keeps the user logged in; the drivers continue from presentedGen + 1.
  if (presentedGen > s.refreshGen) return 'rotated'
  // rotatedAt is 0 until the first rotation: before it there is no previous generation.
  const inGrace = s.rotatedAt > 0 && now - s.rotatedAt < graceMs
  if (presentedGen === s.refreshGen - 1 && inGrace) return 'grace'
  return 'reused'
}

/** Misuse of the API is a TypeError, not a store error. */
export function assertCandidate (mobile: string, candidate: User): void {
  if (candidate.mobile !== mobile) {
    throw new TypeError('getOrCreateUserByMobile: candidate.mobile must equal mobile')
  }
}

export function assertSmsOptions ({ ttlMs, cooldownMs, maxAttempts }: { ttlMs: number, cooldownMs: number, maxAttempts: number }): void {
  if (!(ttlMs > 0)) throw new TypeError('issueSmsCode: ttlMs must be a positive number')
  if (!(cooldownMs >= 0)) throw new TypeError('issueSmsCode: cooldownMs must be a number >= 0')
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new TypeError('issueSmsCode: maxAttempts must be an integer >= 1')
}

export function assertWindow (windowMs: number): void {
  if (!(windowMs > 0)) throw new TypeError('hit: windowMs must be a positive number')
}
