import type { Deps } from '../context.js'
import { verifyOwnAccessToken } from '../oauth/own-tokens.js'
import { ADMIN_SCOPE, splitScope } from '../oauth/scopes.js'

export type AdminTokenVerdict = 'ok' | 'invalid' | 'insufficient_scope'

/**
 * Whether a Bearer value is an access token that may use the admin API: one this
 * auth center issued (signature from its own key ring, `typ: at+jwt`, not expired,
 * see oauth/own-tokens.ts), whose session is still live in the store (so a revoked
 * token, or one of a deleted client, is refused even before the verifiers hear of it),
 * made by the client credentials grant (`sub` = `client_id` = the session's user),
 * for this auth center's audience (AUTH_AUDIENCE: a token minted for another API is
 * not replayable here), of a client that is still registered with the `admin` scope.
 * - `invalid`: not such a token at all (a user's token, a forged, expired or revoked one): 401;
 * - `insufficient_scope`: a good client-credentials token without `admin`: 403.
 */
export async function adminTokenVerdict (deps: Deps, token: string): Promise<AdminTokenVerdict> {
  if (token.split('.').length !== 3) return 'invalid'
  const access = await verifyOwnAccessToken(deps, token)
  if (access === undefined) return 'invalid'
  const { claims, session } = access
  if (claims.client_id === undefined || claims.sub !== claims.client_id || session.userId !== session.clientId) return 'invalid'
  const aud = claims.aud === undefined ? [] : Array.isArray(claims.aud) ? claims.aud : [claims.aud]
  if (!aud.includes(deps.config.audience)) return 'invalid'
  const client = await deps.clients.lookup(claims.client_id)
  if (client?.type !== 'oauth' || client.oauth === undefined) return 'invalid'
  if (!splitScope(claims.scope).includes(ADMIN_SCOPE) || !client.oauth.scopes.includes(ADMIN_SCOPE)) return 'insufficient_scope'
  return 'ok'
}
