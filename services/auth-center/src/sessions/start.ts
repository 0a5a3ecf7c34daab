import type { Deps } from '../context.js'
import type { Session, SessionKind, User } from '../store/store.js'
import { newRefreshNonce, newSessionId } from '../tokens/refresh-token.js'
import type { LoginBinding } from '../auth/binding.js'
import { clientPolicy, issueTokens, sessionLifetimeMs, type TokenResponse } from '../tokens/issue.js'
import { revokeSession } from './revoke.js'
import { rememberSession } from './session-hints.js'

export interface LoginMeta {
  clientId: string
  deviceName?: string
  ip?: string
  userAgent?: string
  /** OAuth2 grants: the scope granted, stored on the session and carried into its access tokens. */
  scope?: string
  /** `third-party` for an OAuth2 grant; default `first-party` (a login at /auth/login). */
  kind?: Exclude<SessionKind, 'client'>
}

/** A new session for a user who just proved who they are; saved before any token leaves. */
export async function startSession (deps: Deps, user: User, meta: LoginMeta, binding: LoginBinding = {}): Promise<TokenResponse> {
  const now = deps.now()
  const session: Session = {
    id: newSessionId(),
    userId: user.id,
    clientId: meta.clientId,
    createdAt: now,
    lastUsedAt: now,
    expiresAt: now + sessionLifetimeMs(clientPolicy(deps, meta.clientId)),
    refreshGen: 0,
    rotatedAt: 0,
    refreshNonce: newRefreshNonce(),
    kind: meta.kind ?? 'first-party'
  }
  if (meta.deviceName !== undefined) session.deviceName = meta.deviceName
  if (meta.ip !== undefined) session.ip = meta.ip
  if (meta.userAgent !== undefined) session.userAgent = meta.userAgent.slice(0, 256)
  if (meta.scope !== undefined) session.scope = meta.scope
  if (binding.jkt !== undefined) session.jkt = binding.jkt
  if (binding.fgpHash !== undefined) session.fgpHash = binding.fgpHash
  await deps.store.createSession(session)
  rememberSession(deps.store, session)
  await kickBeyondLimit(deps, session)
  return issueTokens(deps, session, now)
}

/**
 * Max devices per user ("multi-device kick"): when the client's policy sets
 * `maxSessions` and the user now has more live sessions of that client, the oldest
 * ones are revoked (reason 'max_sessions') through the one revocation path; the
 * kicked device learns it as SESSION_REVOKED on its next call.
 *
 * Race safety without a lock: this runs after the new session is saved, from a
 * fresh list, and every login kicks exactly the oldest `count - max` of what it sees,
 * in one fixed order (createdAt, then id). Every session is saved before its own
 * login lists, so the last login to list sees them all and leaves the newest `max`.
 * No login kicks too many: a session among the oldest `count - max` of any list has
 * `max` newer sessions in that list, so it is not one of the newest `max` overall.
 * Revocation is idempotent, so two logins kicking the same session are harmless.
 * In a race of more than `max` logins at once, a login's own new session may be
 * among the kicked: its tokens are then refused on first use, as for any kicked
 * device (excluding it would let two logins kick each other and leave none).
 */
async function kickBeyondLimit (deps: Deps, session: Session): Promise<void> {
  const max = clientPolicy(deps, session.clientId).maxSessions
  if (!(max > 0)) return
  const live = (await deps.store.listUserSessions(session.userId, deps.now()))
    .filter((s) => s.clientId === session.clientId)
  const excess = live.length - max
  if (excess <= 0) return
  for (const s of live.slice(0, excess)) await revokeSession(deps, s.id, 'max_sessions')
}
