import type { Deps } from '../context.js'
import { checkBindingAtRefresh } from '../auth/binding.js'
import type { RequestFacts } from '../auth/request-facts.js'
import { noteChangedDevice, recordRisk } from '../auth/risk.js'
import { RefreshNotAllowedError, RefreshTokenExpiredError, RefreshTokenInvalidError, RefreshTokenReusedError, SessionRevokedError } from '../errors.js'
import { clientPolicy, hasRefreshToken, issueTokens, type TokenResponse } from '../tokens/issue.js'
import { parseRefreshToken, refreshTokenMatches } from '../tokens/refresh-token.js'
import { sessionRevokedByStore } from './revoke.js'

/**
 * Refresh-token rotation, read as a story: parse → find the session → check the MAC
 * → the device binding (DPoP key, fingerprint cookie) → one atomic store step decides
 * (rotate, grace, reuse, expired, revoked) → issue.
 */
export async function refreshSession (deps: Deps, refreshToken: string, facts?: RequestFacts, oauthClientId?: string): Promise<TokenResponse> {
  const parsed = parseRefreshToken(refreshToken)
  if (parsed === undefined) throw new RefreshTokenInvalidError()

  const found = await deps.store.getSession(parsed.sessionId)
  if (found === null || !refreshTokenMatches(deps.keys.refreshMacKey, parsed, found.refreshNonce)) {
    throw new RefreshTokenInvalidError()
  }
  // An OAuth grant rotates only at /oauth/token, for the client that authenticated there;
  // a first-party refresh (no client given) never rotates a third party's grant.
  const oauth = deps.clients.get(found.clientId)?.type === 'oauth'
  if (oauth ? found.clientId !== oauthClientId : oauthClientId !== undefined) throw new RefreshTokenInvalidError()
  if (!hasRefreshToken(clientPolicy(deps, found.clientId))) throw new RefreshNotAllowedError()
  if (facts !== undefined && found.revokedAt === undefined) {
    await checkBindingAtRefresh(deps, facts, found)
    await noteChangedDevice(deps, facts, found)
  }

  const now = deps.now()
  const { status, session } = await deps.store.rotateRefresh({
    sessionId: parsed.sessionId,
    presentedGen: parsed.gen,
    now,
    graceMs: deps.config.refreshGraceMs,
    newExpiresAt: now + clientPolicy(deps, found.clientId).refreshTtlMs
  })
  switch (status) {
    case 'rotated':
    case 'grace':
      // Grace: the previous token, just after a rotation (two tabs, a lost response):
      // the same successor again, with a fresh access token.
      return issueTokens(deps, session!, now)
    case 'reused':
      sessionRevokedByStore(deps, parsed.sessionId, 'refresh_token_reused')
      if (facts !== undefined) await recordRisk(deps, facts, found, 'refresh_token_reused', true)
      throw new RefreshTokenReusedError()
    case 'expired':
      throw new RefreshTokenExpiredError()
    case 'revoked':
      throw new SessionRevokedError()
    case 'missing':
      throw new RefreshTokenInvalidError()
  }
}
