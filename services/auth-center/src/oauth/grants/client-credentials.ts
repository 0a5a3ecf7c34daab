import type { Deps } from '../../context.js'
import { clientSubject } from '../../sessions/kind.js'
import { issueAccessToken } from '../../tokens/access-token.js'
import { newSessionId } from '../../tokens/refresh-token.js'
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
 * token says so too (`ac_kind: client`) and always carries `scope`, even empty.
 *
 * Nothing is stored: the token is the whole grant (no refresh token, nothing to rotate;
 * its scope, binding and lifetime are in its claims). Its `sid` is a fresh random id that
 * names this token alone, so the denylist reaches it like any session's tokens: RFC 7009
 * revocation writes `s:<sid>` (revokeUnstoredSession), deleting the client writes one
 * `u:client:<id>` entry, and introspection and the admin API read those entries
 * (oauth/own-tokens.ts) as verifiers do. Issuing one is then signing alone, no store
 * round trip: services that fetch a token per job or per pod start pay nothing for a
 * write nobody reads back.
 */
export async function clientCredentialsGrant (deps: Deps, params: Params, { client }: AuthenticatedClient, jkt?: string): Promise<OAuthTokenReply> {
  if (client.oauth.kind !== 'confidential') throw new OAuthError('unauthorized_client', 'a public client cannot use client_credentials')
  const allowed = client.oauth.scopes.filter((s) => s !== OPENID)
  if (params.scope !== undefined && params.scope.split(' ').includes(OPENID)) throw new OAuthError('invalid_scope', 'openid needs a user')
  const scope = grantScope(params.scope, allowed).join(' ')

  const access = issueAccessToken(deps.keys, {
    issuer: deps.config.issuer,
    audience: client.oauth.audience,
    subject: clientSubject(client.clientId),
    clientId: client.clientId,
    kind: 'client',
    sessionId: newSessionId(),
    scope,
    ttlMs: client.policy.accessTtlMs,
    ...(jkt !== undefined ? { cnf: { jkt } } : {}),
    now: deps.now()
  })
  const out: OAuthTokenReply = { access_token: access.token, token_type: jkt !== undefined ? 'DPoP' : 'Bearer', expires_in: access.expiresIn }
  if (scope !== '') out.scope = scope
  return out
}
