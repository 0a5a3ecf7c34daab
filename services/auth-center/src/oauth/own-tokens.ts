import { createLocalJWKSet, jwtVerify, type JWTPayload } from 'jose'
import type { Deps } from '../context.js'
import type { Session } from '../store/store.js'
import { parseRefreshToken, refreshTokenMatches } from '../tokens/refresh-token.js'

export interface OwnAccessToken {
  claims: JWTPayload & { client_id?: string, scope?: string, sid?: string, ac_kind?: string, cnf?: { jkt?: string, fgp?: string } }
  /** The grant (session) the token belongs to, when it is still live. */
  session: Session
}

/**
 * An access token this auth center issued, whatever its audience, that is still
 * good: signature from our key ring, `typ: at+jwt` (never an id_token), not
 * expired, and its session live (not revoked, not ended). Undefined otherwise.
 * For the introspection, revocation and userinfo endpoints and admin-scope checks.
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
  if (typeof claims.sid !== 'string') return undefined
  const session = await deps.store.getSession(claims.sid)
  if (session === null || session.revokedAt !== undefined || session.userId !== claims.sub) return undefined
  if (session.clientId !== claims.client_id) return undefined
  return { claims, session }
}

/** The session of a refresh token of the current generation (revoked or not: the caller decides), or undefined. */
export async function findRefreshSession (deps: Deps, token: string): Promise<Session | undefined> {
  const parsed = parseRefreshToken(token)
  if (parsed === undefined) return undefined
  const session = await deps.store.getSession(parsed.sessionId)
  if (session === null || !refreshTokenMatches(deps.keys.refreshMacKey, parsed, session.refreshNonce)) return undefined
  return parsed.gen === session.refreshGen ? session : undefined
}
