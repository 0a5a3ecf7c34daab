import type { Deps } from '../context.js'
import { audit } from '../auth/audit.js'
import type { OwnAccessToken } from '../oauth/own-tokens.js'

/**
 * The one path every revocation goes through (logout, "kick this device", "log out
 * everywhere else", password change, max devices per user, refresh-token reuse, admin
 * actions). The denylist entry for verifiers is written and published by the store in
 * the same atomic step as the session change (docs/revocation-protocol.md):
 * - revokeSession writes `s:<sid>`; revokeClientToken writes it for a token whose grant is not stored;
 * - revokeUserSessions writes ONE `u:<userId>` (with `exceptSid` when a session
 *   survives), which also kills tokens of sessions a verifier has never seen;
 * - refresh-token reuse is decided inside the store's rotation step, which writes
 *   `s:<sid>` itself; sessionRevokedByStore only reports it.
 */
export type RevokeReason =
  | 'logout' | 'logout_others' | 'password_changed' | 'refresh_token_reused'
  | 'admin' | 'kicked' | 'max_sessions' | 'binding_mismatch'
  | 'oauth_revoked' | 'code_replayed' | 'consent_withdrawn'

export async function revokeSession (deps: Deps, sessionId: string, reason: RevokeReason): Promise<boolean> {
  const s = await deps.store.revokeSession(sessionId, reason, deps.now())
  if (s !== null) {
    deps.log.info({ sid: sessionId, reason }, 'session revoked')
    deps.metrics.revoked(reason, 1)
    await audit(deps, { type: 'session_revoked', userId: s.userId, sessionId, clientId: s.clientId, reason })
  }
  return s !== null
}

/**
 * A client-credentials token, which has no stored session (oauth/grants/client-credentials.ts):
 * its `s:<sid>` entry, written and published once. Audited like a session's revocation.
 */
export async function revokeClientToken (deps: Deps, token: OwnAccessToken, reason: RevokeReason): Promise<boolean> {
  const wrote = await deps.store.revokeUnstoredSession(token.sid, deps.now())
  if (wrote) {
    deps.log.info({ sid: token.sid, reason }, 'client token revoked')
    deps.metrics.revoked(reason, 1)
    await audit(deps, { type: 'session_revoked', userId: token.claims.sub!, sessionId: token.sid, clientId: token.claims.client_id!, reason })
  }
  return wrote
}

export async function revokeUserSessions (deps: Deps, userId: string, reason: RevokeReason, exceptSessionId?: string): Promise<string[]> {
  const ids = await deps.store.revokeUserSessions(userId, reason, deps.now(), exceptSessionId)
  deps.log.info({ userId, reason, count: ids.length }, 'user sessions revoked')
  deps.metrics.revoked(reason, ids.length)
  await audit(deps, { type: 'user_sessions_revoked', userId, reason, detail: { count: ids.length } })
  return ids
}

/** Called when the store itself revoked a session (reuse detection is atomic inside the store). */
export function sessionRevokedByStore (deps: Deps, sessionId: string, reason: RevokeReason): void {
  deps.log.warn({ sid: sessionId, reason }, 'session revoked')
  deps.metrics.revoked(reason, 1)
}
