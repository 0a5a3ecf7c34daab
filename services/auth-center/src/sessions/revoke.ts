import type { Deps } from '../context.js'

/**
 * The one path every revocation goes through (logout, password change, refresh-token
 * reuse, admin actions), so that what follows a revocation (the denylist feed for
 * verifiers) is added in one place.
 */
export type RevokeReason = 'logout' | 'password_changed' | 'refresh_token_reused' | 'admin' | 'kicked' | 'max_sessions'

export async function revokeSession (deps: Deps, sessionId: string, reason: RevokeReason): Promise<boolean> {
  const s = await deps.store.revokeSession(sessionId, reason, deps.now())
  if (s !== null) deps.log.info({ sid: sessionId, reason }, 'session revoked')
  return s !== null
}

export async function revokeUserSessions (deps: Deps, userId: string, reason: RevokeReason, exceptSessionId?: string): Promise<string[]> {
  const ids = await deps.store.revokeUserSessions(userId, reason, deps.now(), exceptSessionId)
  deps.log.info({ userId, reason, count: ids.length }, 'user sessions revoked')
  return ids
}

/** Called when the store itself revoked a session (reuse detection is atomic inside the store). */
export function sessionRevokedByStore (deps: Deps, sessionId: string, reason: RevokeReason): void {
  deps.log.warn({ sid: sessionId, reason }, 'session revoked')
}
