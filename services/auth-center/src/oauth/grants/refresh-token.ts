import type { RequestFacts } from '../../auth/request-facts.js'
import type { Deps } from '../../context.js'
import { refreshSession } from '../../sessions/refresh.js'
import { parseRefreshToken } from '../../tokens/refresh-token.js'
import type { AuthenticatedClient } from '../client-auth.js'
import { OAuthError, invalidGrant, invalidRequest } from '../errors.js'
import type { Params } from '../form.js'
import { splitScope } from '../scopes.js'
import { oauthTokenReply, type OAuthTokenReply } from './reply.js'

/**
 * grant_type=refresh_token: the first-party rotation engine (sessions/refresh.ts: the
 * same rotation, grace window and reuse detection), after checking that the grant
 * is this client's. A `scope` parameter may only repeat (part of) the grant's scope
 * (RFC 6749 §6): the new access token carries just that part; the grant, and so the
 * new refresh token, keeps its whole scope, and a refresh without `scope` gets all of it.
 */
export async function refreshTokenGrant (deps: Deps, params: Params, { client }: AuthenticatedClient, facts?: RequestFacts): Promise<OAuthTokenReply> {
  const token = params.refresh_token
  if (token === undefined) throw invalidRequest('refresh_token is required')
  const parsed = parseRefreshToken(token)
  const found = parsed === undefined ? null : await deps.store.getSession(parsed.sessionId)
  // Checked before the rotation, so another client cannot burn this client's token.
  if (found === null || found.clientId !== client.clientId) throw invalidGrant('the refresh token is not valid')
  const granted = splitScope(found.scope)
  const requested = splitScope(params.scope)
  const beyond = requested.filter((s) => !granted.includes(s))
  if (beyond.length > 0) throw new OAuthError('invalid_scope', `not part of the grant: ${beyond.join(' ')}`)
  // In the grant's order, without repeats; absent or empty: the whole grant (no narrowing).
  const narrowed = requested.length === 0 ? undefined : granted.filter((s) => requested.includes(s)).join(' ')

  try {
    const tokens = await refreshSession(deps, token, facts, client.clientId, narrowed)
    return oauthTokenReply(client, tokens, narrowed ?? found.scope)
  } catch (err) {
    const code = (err as { code?: string }).code ?? ''
    if (/^(REFRESH_|SESSION_|TOKEN_BINDING)/.test(code)) throw invalidGrant((err as Error).message)
    if (code === 'INVALID_DPOP_PROOF') throw new OAuthError('invalid_dpop_proof', (err as Error).message)
    throw err
  }
}
