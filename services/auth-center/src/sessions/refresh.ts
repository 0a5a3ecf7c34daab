import type { Deps } from '../context.js'
import { checkBindingAtRefresh } from '../auth/binding.js'
import type { RequestFacts } from '../auth/request-facts.js'
import { noteChangedDevice, recordRisk } from '../auth/risk.js'
import { RefreshNotAllowedError, RefreshTokenExpiredError, RefreshTokenInvalidError, RefreshTokenReusedError, SessionRevokedError } from '../errors.js'
import { clientPolicy, hasRefreshToken, issueTokens, type TokenResponse } from '../tokens/issue.js'
import { parseRefreshToken, refreshTokenMatches, type ParsedRefreshToken } from '../tokens/refresh-token.js'
import { outcomeOf } from '../metrics/metrics.js'
import { sessionKind } from './kind.js'
import { sessionRevokedByStore } from './revoke.js'
import { forgetSession, rememberSession, sessionHint, type SessionHint } from './session-hints.js'
import type { Session } from '../store/store.js'

/**
 * Refresh-token rotation, read as a story: parse → find the session → check the MAC
 * → the device binding (DPoP key, fingerprint cookie) → one atomic store step decides
 * (rotate, grace, reuse, expired, revoked) → issue.
 *
 * The common case takes one store round trip: when this process remembers the
 * session (session-hints.ts: it made or refreshed it) and the request would pass the
 * binding and device checks unchanged (no DPoP or cookie binding, same IP and user
 * agent as at login), the MAC is checked against the remembered nonce and the
 * rotation step itself re-checks that nonce (`expectedNonce`) before it changes
 * anything. Everything else (an unknown session, a bound one, a changed device, a
 * MAC that does not match, a stale hint) takes the full path: getSession first.
 */
export async function refreshSession (deps: Deps, refreshToken: string, facts?: RequestFacts, oauthClientId?: string,
  accessScope?: string): Promise<TokenResponse> {
  try {
    const tokens = await refreshUncounted(deps, refreshToken, facts, oauthClientId, accessScope)
    deps.metrics.refresh('success')
    return tokens
  } catch (err) {
    deps.metrics.refresh(outcomeOf(err))
    throw err
  }
}

async function refreshUncounted (deps: Deps, refreshToken: string, facts: RequestFacts | undefined, oauthClientId: string | undefined,
  accessScope: string | undefined): Promise<TokenResponse> {
  const parsed = parseRefreshToken(refreshToken)
  if (parsed === undefined) throw new RefreshTokenInvalidError()

  const hint = sessionHint(deps.store, parsed.sessionId)
  // (A hint without a kind is of a session saved before kinds were: its kind is read from the whole session.)
  if (hint !== undefined && hint.kind !== undefined && nothingToCheck(hint, facts) && refreshTokenMatches(deps.keys.refreshMacKey, parsed, hint.refreshNonce)) {
    admit(deps, hint, oauthClientId)
    const tokens = await rotate(deps, parsed, facts, hint.clientId, accessScope, hint.refreshNonce)
    if (tokens !== undefined) return tokens
    // 'stale': the session under this id is not the one remembered; read it.
  }

  const found = await deps.store.getSession(parsed.sessionId)
  if (found === null || !refreshTokenMatches(deps.keys.refreshMacKey, parsed, found.refreshNonce)) {
    throw new RefreshTokenInvalidError()
  }
  admit(deps, found, oauthClientId)
  if (facts !== undefined && found.revokedAt === undefined) {
    await checkBindingAtRefresh(deps, facts, found)
    await noteChangedDevice(deps, facts, found)
  }
  rememberSession(deps.store, found)
  const tokens = await rotate(deps, parsed, facts, found.clientId, accessScope)
  if (tokens === undefined) throw new RefreshTokenInvalidError() // unreachable: no expectedNonce, never 'stale'
  return tokens
}

/**
 * An OAuth grant rotates only at /oauth/token, for the client that authenticated there;
 * a first-party refresh (no client given) never rotates a third party's grant. Which one
 * a session is comes from the session itself (sessions/kind.ts), not from the client's
 * registration, so a grant whose client left the clients file never becomes first-party.
 */
function admit (deps: Deps, session: Pick<Session, 'kind' | 'userId' | 'clientId' | 'scope'>, oauthClientId: string | undefined): void {
  const { clientId } = session
  const kind = sessionKind(session, deps.clients)
  if (kind === 'client') throw new RefreshTokenInvalidError()
  if (kind === 'third-party' ? clientId !== oauthClientId : oauthClientId !== undefined) throw new RefreshTokenInvalidError()
  if (!hasRefreshToken(clientPolicy(deps, clientId))) throw new RefreshNotAllowedError()
}

/**
 * Whether the binding and device checks of the full path would do nothing for this
 * request: no binding to prove, and the same IP and user agent as the session's.
 */
function nothingToCheck (hint: SessionHint, facts: RequestFacts | undefined): boolean {
  if (facts === undefined) return true
  if (hint.jkt !== undefined || hint.fgpHash !== undefined) return false
  if (hint.ip !== undefined && facts.ip !== hint.ip) return false
  if (hint.userAgent !== undefined && facts.userAgent !== undefined && facts.userAgent.slice(0, 256) !== hint.userAgent) return false
  return true
}

/** The atomic store step and its outcome; undefined when the step answered 'stale'. */
async function rotate (deps: Deps, parsed: ParsedRefreshToken, facts: RequestFacts | undefined, clientId: string,
  accessScope: string | undefined, expectedNonce?: string): Promise<TokenResponse | undefined> {
  const now = deps.now()
  // expectedNonce undefined means none (every store tests `!== undefined` / `?? ''`): no spread object per refresh.
  const { status, session } = await deps.store.rotateRefresh({
    sessionId: parsed.sessionId,
    presentedGen: parsed.gen,
    now,
    graceMs: deps.config.refreshGraceMs,
    newExpiresAt: now + clientPolicy(deps, clientId).refreshTtlMs,
    expectedNonce
  })
  switch (status) {
    case 'rotated':
    case 'grace':
      // Grace: the previous token, just after a rotation (two tabs, a lost response):
      // the same successor again, with a fresh access token.
      return issueTokens(deps, session!, now, accessScope)
    case 'stale':
      forgetSession(deps.store, parsed.sessionId)
      return undefined
    case 'reused':
      forgetSession(deps.store, parsed.sessionId)
      sessionRevokedByStore(deps, parsed.sessionId, 'refresh_token_reused')
      deps.metrics.reuseDetected()
      if (facts !== undefined) await recordRisk(deps, facts, session!, 'refresh_token_reused', true)
      throw new RefreshTokenReusedError()
    case 'expired':
      forgetSession(deps.store, parsed.sessionId)
      throw new RefreshTokenExpiredError()
    case 'revoked':
      forgetSession(deps.store, parsed.sessionId)
      throw new SessionRevokedError()
    case 'missing':
      forgetSession(deps.store, parsed.sessionId)
      throw new RefreshTokenInvalidError()
  }
}
