import type { Deps } from '../context.js'
import type { Session, User } from '../store/store.js'
import { newRefreshNonce, newSessionId } from '../tokens/refresh-token.js'
import { clientPolicy, issueTokens, type TokenResponse } from '../tokens/issue.js'

export interface LoginMeta {
  clientId: string
  deviceName?: string
  ip?: string
  userAgent?: string
}

/** A new session for a user who just proved who they are; saved before any token leaves. */
export async function startSession (deps: Deps, user: User, meta: LoginMeta): Promise<TokenResponse> {
  const now = deps.now()
  const session: Session = {
    id: newSessionId(),
    userId: user.id,
    clientId: meta.clientId,
    createdAt: now,
    lastUsedAt: now,
    expiresAt: now + clientPolicy(deps, meta.clientId).refreshTtlMs,
    refreshGen: 0,
    rotatedAt: 0,
    refreshNonce: newRefreshNonce()
  }
  if (meta.deviceName !== undefined) session.deviceName = meta.deviceName
  if (meta.ip !== undefined) session.ip = meta.ip
  if (meta.userAgent !== undefined) session.userAgent = meta.userAgent.slice(0, 256)
  await deps.store.createSession(session)
  return issueTokens(deps, session, now)
}
