import type { FastifyRequest } from 'fastify'
import type { Deps } from '../context.js'
import { isProblem, resourceToken, type PresentedToken, type ResourceTokenProblem } from '../auth/resource-token.js'
import { verifyOwnAccessToken } from '../oauth/own-tokens.js'
import { ADMIN_SCOPE, splitScope } from '../oauth/scopes.js'
import { clientSubject } from '../sessions/kind.js'

export type AdminTokenVerdict = 'ok' | 'invalid' | 'insufficient_scope' | ResourceTokenProblem

/**
 * Whether a Bearer value is an access token that may use the admin API: one this
 * auth center issued (signature from its own key ring, `typ: at+jwt`, not expired,
 * see oauth/own-tokens.ts), not revoked by the store's denylist (so a revoked token, or
 * one of a deleted client, is refused even before the verifiers hear of it),
 * made by the client credentials grant (`ac_kind: client`, `sub` = `client:<client_id>`,
 * sessions/kind.ts),
 * for this auth center's audience (AUTH_AUDIENCE: a token minted for another API is
 * not replayable here), of a client that is still registered with the `admin` scope.
 * A DPoP-bound token needs the DPoP scheme and a proof for the request (auth/resource-token.ts).
 * - `invalid`: not such a token at all (a user's token, a forged, expired or revoked one): 401;
 * - a binding problem (a DPoP-bound token as Bearer, a bad proof): 401 with a DPoP challenge;
 * - `insufficient_scope`: a good client-credentials token without `admin`: 403.
 */
export async function adminTokenVerdict (deps: Deps, request: FastifyRequest, presented: PresentedToken): Promise<AdminTokenVerdict> {
  return await clientTokenVerdict(deps, presented.token, ADMIN_SCOPE, { request, scheme: presented.scheme })
}

/**
 * The same check for any scope the auth center itself serves to clients (`admin`, and
 * `revocations:read` for the revocation feed, src/revocations/): a live client-credentials
 * token of this audience whose client is still registered with `scope`. Without the
 * request (`presented`), a bound token is refused: it cannot prove its binding here.
 */
export async function clientTokenVerdict (deps: Deps, token: string, scope: string,
  presented?: { request: FastifyRequest, scheme: PresentedToken['scheme'] }): Promise<AdminTokenVerdict> {
  if (token.split('.').length !== 3) return 'invalid'
  let access
  if (presented === undefined) {
    access = await verifyOwnAccessToken(deps, token)
    if (access === undefined || access.claims.cnf !== undefined) return 'invalid'
  } else {
    const checked = await resourceToken(deps, presented.request, { token, scheme: presented.scheme })
    if (isProblem(checked)) return checked.code === 'INVALID_TOKEN' ? 'invalid' : checked
    access = checked
  }
  const { claims } = access
  if (claims.client_id === undefined || claims.ac_kind !== 'client' || access.kind !== 'client') return 'invalid'
  if (claims.sub !== clientSubject(claims.client_id)) return 'invalid'
  const aud = claims.aud === undefined ? [] : Array.isArray(claims.aud) ? claims.aud : [claims.aud]
  if (!aud.includes(deps.config.audience)) return 'invalid'
  const client = await deps.clients.lookup(claims.client_id)
  if (client?.type !== 'oauth' || client.oauth === undefined) return 'invalid'
  if (!splitScope(claims.scope).includes(scope) || !client.oauth.scopes.includes(scope)) return 'insufficient_scope'
  return 'ok'
}
