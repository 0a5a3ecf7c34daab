import type { Deps } from '../context.js'
import type { Session } from '../store/store.js'
import type { TokenPolicy } from '../clients/client.js'
import { issueAccessToken } from './access-token.js'
import { formatRefreshToken } from './refresh-token.js'
import { sessionKind } from '../sessions/kind.js'

export interface TokenResponse {
  access_token: string
  token_type: 'Bearer' | 'DPoP'
  expires_in: number
  session_id: string
  /** Absent for single-token and sliding clients. */
  refresh_token?: string
  refresh_expires_in?: number
  /** Sliding sessions: seconds until the session's absolute end. */
  session_expires_in?: number
}

/**
 * The tokens a session's client policy calls for, at `now`:
 * - access + refresh (default): an access token and the refresh token of the current generation;
 * - single access token (`refresh: false`): only a (longer) access token;
 * - sliding (`sliding: {idle, max}`): one token expiring at min(now + idle, start + max).
 * Bound sessions get `cnf` (`jkt` for DPoP, `fgp` for the fingerprint cookie).
 * `accessScope` replaces the session's scope in the access token only (the session keeps its grant).
 */
export function issueTokens (deps: Deps, session: Session, now: number, accessScope?: string): TokenResponse {
  const { config, keys } = deps
  const policy = clientPolicy(deps, session.clientId)
  const end = policy.sliding === undefined ? undefined : session.createdAt + policy.sliding.maxMs
  const cnf: Record<string, string> | undefined = session.jkt !== undefined ? { jkt: session.jkt } : session.fgpHash !== undefined ? { fgp: session.fgpHash } : undefined
  // Absent options are passed as undefined (issueAccessToken tests `!== undefined`), not spread in: no extra objects per token.
  const access = issueAccessToken(keys, {
    issuer: config.issuer,
    // OAuth2 clients: their registered audience, and the scope of the grant (src/oauth/).
    audience: deps.clients.get(session.clientId)?.oauth?.audience ?? config.audience,
    subject: session.userId,
    clientId: session.clientId,
    // The session's own kind, never the client's current registration (a removed client's grant stays third-party).
    kind: sessionKind(session, deps.clients),
    sessionId: session.id,
    // An OAuth refresh may ask for less than the grant (RFC 6749 §6): only this access token is narrowed.
    scope: accessScope ?? session.scope,
    ttlMs: policy.sliding === undefined ? policy.accessTtlMs : Math.min(policy.sliding.idleMs, end! - now),
    notAfterMs: end,
    cnf,
    now
  })
  const out: TokenResponse = {
    access_token: access.token,
    token_type: session.jkt !== undefined ? 'DPoP' : 'Bearer',
    expires_in: access.expiresIn,
    session_id: session.id
  }
  if (end !== undefined) {
    out.session_expires_in = Math.max(0, Math.floor((end - now) / 1000))
  } else if (policy.refresh) {
    out.refresh_token = formatRefreshToken(keys.refreshMacKey, session.id, session.refreshGen, session.refreshNonce)
    out.refresh_expires_in = Math.max(0, Math.floor((session.expiresAt - now) / 1000))
  }
  return out
}

/** Whether sessions of this policy carry a refresh token. */
export function hasRefreshToken (policy: TokenPolicy): boolean {
  return policy.refresh && policy.sliding === undefined
}

/** When a new session of this policy ends if nothing renews it. */
export function sessionLifetimeMs (policy: TokenPolicy): number {
  if (policy.sliding !== undefined) return policy.sliding.maxMs
  return hasRefreshToken(policy) ? policy.refreshTtlMs : policy.accessTtlMs
}

/** The token policy of a session's client (the built-in client's when it left the registry). */
export function clientPolicy (deps: Deps, clientId: string): TokenPolicy {
  return (deps.clients.get(clientId) ?? deps.clients.get('default')!).policy
}
