import type { Deps } from '../../context.js'
import { clientSubject } from '../../sessions/kind.js'
import type { Session } from '../../store/store.js'
import { issueAccessToken } from '../../tokens/access-token.js'
import { newRefreshNonce, newSessionId } from '../../tokens/refresh-token.js'
import type { AuthenticatedClient } from '../client-auth.js'
import { OAuthError } from '../errors.js'
import type { Params } from '../form.js'
import { OPENID, grantScope } from '../scopes.js'
import type { OAuthTokenReply } from './reply.js'

/**
 * grant_type=client_credentials (RFC 6749 §4.4): a confidential client acting for
 * itself. `sub` is `client:<client_id>` (sessions/kind.ts): the identifier this auth
 * center uses for the client (RFC 9068 §2.2), in a namespace no user id can enter, so a
 * client registered under a user's id never acts as, lists or revokes that user; the
 * token says so too (`ac_kind: client`) and always carries `scope`, even empty. Each
 * token gets a small session record (user = the client's subject, no refresh token) so
 * that it has a `sid`: revocation (RFC 7009) and introspection then go through the same
 * session and denylist path as user tokens.
 */
export async function clientCredentialsGrant (deps: Deps, params: Params, { client }: AuthenticatedClient, jkt?: string): Promise<OAuthTokenReply> {
  if (client.oauth.kind !== 'confidential') throw new OAuthError('unauthorized_client', 'a public client cannot use client_credentials')
  const allowed = client.oauth.scopes.filter((s) => s !== OPENID)
  if (params.scope !== undefined && params.scope.split(' ').includes(OPENID)) throw new OAuthError('invalid_scope', 'openid needs a user')
  const scope = grantScope(params.scope, allowed).join(' ')

  const now = deps.now()
  const ttlMs = client.policy.accessTtlMs
  const session: Session = {
    id: newSessionId(),
    userId: clientSubject(client.clientId),
    clientId: client.clientId,
    kind: 'client',
    deviceName: 'client credentials',
    createdAt: now,
    lastUsedAt: now,
    expiresAt: now + ttlMs,
    refreshGen: 0,
    rotatedAt: 0,
    refreshNonce: newRefreshNonce()
  }
  session.scope = scope
  if (jkt !== undefined) session.jkt = jkt
  await deps.store.createSession(session)
  const access = issueAccessToken(deps.keys, {
    issuer: deps.config.issuer,
    audience: client.oauth.audience,
    subject: clientSubject(client.clientId),
    clientId: client.clientId,
    kind: 'client',
    sessionId: session.id,
    scope,
    ttlMs,
    ...(jkt !== undefined ? { cnf: { jkt } } : {}),
    now
  })
  const out: OAuthTokenReply = { access_token: access.token, token_type: jkt !== undefined ? 'DPoP' : 'Bearer', expires_in: access.expiresIn }
  if (scope !== '') out.scope = scope
  return out
}
