import type { Auth } from '@authcenter/verifier'
import type { Deps } from '../context.js'
import { SessionExpiredError, SessionRevokedError, SlidingNotAllowedError } from '../errors.js'
import { issueAccessToken } from '../tokens/access-token.js'
import { clientPolicy } from '../tokens/issue.js'

export interface SlideResponse {
  access_token: string
  token_type: 'Bearer'
  expires_in: number
  session_id: string
  /** Seconds until the session's absolute end, after which the user must log in. */
  session_expires_in: number
}

/**
 * Sliding session renewal: the holder of a (still valid, or just expired) token gets
 * a new one expiring at min(now + idle, session start + max). Computed from the
 * session's start, never from the presented token, so renewing twice at once cannot
 * push the bound further, and nothing lives past `max`.
 */
export async function slideSession (deps: Deps, auth: Auth): Promise<SlideResponse> {
  const sid = auth.sid
  const session = sid === undefined ? null : await deps.store.getSession(sid)
  if (session === null || session.revokedAt !== undefined || session.userId !== auth.sub) throw new SessionRevokedError()
  const policy = clientPolicy(deps, session.clientId)
  if (policy.sliding === undefined) throw new SlidingNotAllowedError()

  const now = deps.now()
  const end = session.createdAt + policy.sliding.maxMs
  const exp = Math.min(now + policy.sliding.idleMs, end)
  if (exp - now < 1000) throw new SessionExpiredError()
  const access = issueAccessToken(deps.keys, {
    issuer: deps.config.issuer,
    audience: deps.config.audience,
    subject: session.userId,
    clientId: session.clientId,
    sessionId: session.id,
    ttlMs: exp - now,
    notAfterMs: end,
    now
  })
  return {
    access_token: access.token,
    token_type: 'Bearer',
    expires_in: access.expiresIn,
    session_id: session.id,
    session_expires_in: Math.floor((end - now) / 1000)
  }
}
