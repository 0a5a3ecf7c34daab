import type { Auth } from '@authcenter/verifier'
import type { Deps } from '../context.js'
import { SessionExpiredError, SessionRevokedError, SlidingNotAllowedError } from '../errors.js'
import { clientPolicy, issueTokens, type TokenResponse } from '../tokens/issue.js'

/**
 * Sliding session renewal: the holder of a (still valid, or just expired) token gets
 * a new one expiring at min(now + idle, session start + max). Computed from the
 * session's start, never from the presented token, so renewing twice at once cannot
 * push the bound further, and nothing lives past `max`.
 */
export async function slideSession (deps: Deps, auth: Auth): Promise<TokenResponse> {
  const sid = auth.sid
  const session = sid === undefined ? null : await deps.store.getSession(sid)
  if (session === null || session.revokedAt !== undefined || session.userId !== auth.sub) throw new SessionRevokedError()
  const policy = clientPolicy(deps, session.clientId)
  if (policy.sliding === undefined) throw new SlidingNotAllowedError()

  const now = deps.now()
  if (session.createdAt + policy.sliding.maxMs - now < 1000) throw new SessionExpiredError()
  return issueTokens(deps, session, now)
}
