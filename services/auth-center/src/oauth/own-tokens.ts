import { createLocalJWKSet, jwtVerify, type JWTPayload } from 'jose'
import type { Deps } from '../context.js'
import type { Session, SessionKind } from '../store/store.js'
import { tokenDenied } from '../store/denylist.js'
import { clientSubject, sessionKind } from '../sessions/kind.js'
import { parseRefreshToken, refreshTokenMatches } from '../tokens/refresh-token.js'

export interface OwnAccessToken {
  claims: JWTPayload & { client_id?: string, scope?: string, sid?: string, ac_kind?: string, cnf?: { jkt?: string, fgp?: string } }
  /** The token's `sid`: its session's id, or for a client-credentials token the id of that token alone. */
  sid: string
  /** What the token may do: `client` for client credentials (`sub` = `client:<client_id>`), else its session's kind. */
  kind: SessionKind
  /** The grant (session) the token belongs to, still live; absent for client credentials, which store none. */
  session?: Session
}

/**
 * An access token this auth center issued, whatever its audience, that is still
 * good: signature from our key ring, `typ: at+jwt` (never an id_token), not
 * expired, and not revoked. Undefined otherwise. For the introspection, revocation
 * and userinfo endpoints and admin-scope checks.
 * - A user's token (first- or third-party): its session live in the store.
 * - A client-credentials token (`ac_kind: client`, `sub` = `client:<client_id>`): no
 *   session is stored (oauth/grants/client-credentials.ts), so the denylist decides, read
 *   from the store in one step with the verifiers' rules (store/denylist.ts tokenDenied):
 *   a revoked token or one of a deleted client is refused here before any verifier hears of it.
 */
export async function verifyOwnAccessToken (deps: Deps, token: string): Promise<OwnAccessToken | undefined> {
  if (token.length > 8192) return undefined
  let claims: OwnAccessToken['claims']
  try {
    ({ payload: claims } = await jwtVerify(token, createLocalJWKSet(deps.keys.jwks() as never), {
      issuer: deps.config.issuer,
      typ: 'at+jwt',
      algorithms: ['EdDSA', 'ES256', 'RS256'],
      requiredClaims: ['exp', 'iat', 'sub'],
      currentDate: new Date(deps.now()),
      clockTolerance: 5
    }))
  } catch {
    return undefined
  }
  const sid = claims.sid
  if (typeof sid !== 'string' || typeof claims.sub !== 'string') return undefined
  if (claims.ac_kind === 'client') {
    if (typeof claims.client_id !== 'string' || claims.sub !== clientSubject(claims.client_id)) return undefined
    const entries = await deps.store.denyEntriesOf(sid, claims.sub)
    if (tokenDenied(entries, { sid, iatMs: Math.round((claims.iat as number) * 1000) }, deps.now())) return undefined
    return { claims, sid, kind: 'client' }
  }
  const session = await deps.store.getSession(sid)
  if (session === null || session.revokedAt !== undefined || session.userId !== claims.sub) return undefined
  if (session.clientId !== claims.client_id) return undefined
  return { claims, sid, kind: sessionKind(session, deps.clients), session }
}

/** The session of a refresh token of the current generation (revoked or not: the caller decides), or undefined. */
export async function findRefreshSession (deps: Deps, token: string): Promise<Session | undefined> {
  const parsed = parseRefreshToken(token)
  if (parsed === undefined) return undefined
  const session = await deps.store.getSession(parsed.sessionId)
  if (session === null || !refreshTokenMatches(deps.keys.refreshMacKey, parsed, session.refreshNonce)) return undefined
  return parsed.gen === session.refreshGen ? session : undefined
}
