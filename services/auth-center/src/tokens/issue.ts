import type { Deps } from '../context.js'
import type { Session } from '../store/store.js'
import type { TokenPolicy } from '../clients/client.js'
import { issueAccessToken } from './access-token.js'
import { formatRefreshToken } from './refresh-token.js'

export interface TokenResponse {
  access_token: string
  refresh_token: string
  token_type: 'Bearer'
  expires_in: number
  refresh_expires_in: number
  session_id: string
}

/** The access token and the refresh token of the session's current generation. */
export function issueTokens (deps: Deps, session: Session, now: number): TokenResponse {
  const { config, keys } = deps
  const policy = clientPolicy(deps, session.clientId)
  const access = issueAccessToken(keys, {
    issuer: config.issuer,
    audience: config.audience,
    subject: session.userId,
    clientId: session.clientId,
    sessionId: session.id,
    ttlMs: policy.accessTtlMs,
    now
  })
  return {
    access_token: access.token,
    refresh_token: formatRefreshToken(keys.refreshMacKey, session.id, session.refreshGen, session.refreshNonce),
    token_type: 'Bearer',
    expires_in: access.expiresIn,
    refresh_expires_in: Math.max(0, Math.floor((session.expiresAt - now) / 1000)),
    session_id: session.id
  }
}

/** The token policy of a session's client (the built-in client's when it left the registry). */
export function clientPolicy (deps: Deps, clientId: string): TokenPolicy {
  return (deps.clients.get(clientId) ?? deps.clients.get('default')!).policy
}
