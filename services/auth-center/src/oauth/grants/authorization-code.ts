import type { FastifyRequest } from 'fastify'
import type { Deps } from '../../context.js'
import { audit } from '../../auth/audit.js'
import { revokeSession } from '../../sessions/revoke.js'
import { startSession } from '../../sessions/start.js'
import type { AuthenticatedClient } from '../client-auth.js'
import { USED_CODE_TTL_MS, codeId } from '../codes.js'
import { OAuthError, invalidGrant, invalidRequest } from '../errors.js'
import type { Params } from '../form.js'
import { issueIdToken } from '../id-token.js'
import { pkceMatches } from '../pkce.js'
import { OPENID, splitScope } from '../scopes.js'
import { oauthTokenReply, type OAuthTokenReply } from './reply.js'

/**
 * grant_type=authorization_code, read as a story: take the code (atomic, single use)
 * → a replay revokes the grant the code made → same client, same redirect_uri, PKCE
 * verifier → one session per grant (sessions/start.ts) → tokens (+ id_token for openid).
 */
export async function authorizationCodeGrant (deps: Deps, request: FastifyRequest, params: Params, { client }: AuthenticatedClient, jkt?: string): Promise<OAuthTokenReply> {
  const { code, redirect_uri: redirectUri, code_verifier: verifier } = params
  if (code === undefined) throw invalidRequest('code is required')
  if (redirectUri === undefined) throw invalidRequest('redirect_uri is required')
  if (verifier === undefined) throw invalidRequest('code_verifier is required (PKCE)')

  const id = codeId(code)
  const grant = await deps.store.takeAuthCode(id, USED_CODE_TTL_MS)
  if (grant === null) {
    // Already taken (or expired): when it was exchanged, everything issued from it dies (RFC 6749 §4.1.2).
    const replay = await deps.store.replayAuthCode(id)
    if (replay.status === 'granted') {
      await revokeSession(deps, replay.sessionId, 'code_replayed')
      deps.log.warn({ clientId: client.clientId, sid: replay.sessionId }, 'authorization code replayed: grant revoked')
    }
    throw invalidGrant('the code is invalid, expired or already used')
  }
  // The code is spent whatever happens next.
  if (grant.clientId !== client.clientId) throw invalidGrant('the code was issued to another client')
  if (grant.redirectUri !== redirectUri) throw invalidGrant('redirect_uri does not match the authorization request')
  if (!pkceMatches(verifier, grant.codeChallenge)) throw invalidGrant('code_verifier does not match the code_challenge')
  const user = await deps.store.getUser(grant.userId)
  if (user === null) throw invalidGrant('the user no longer exists')

  const tokens = await startSession(deps, user, {
    clientId: client.clientId,
    deviceName: client.name,
    ip: request.clientIp,
    userAgent: request.headers['user-agent'],
    scope: grant.scope,
    kind: 'third-party'
  }, jkt !== undefined ? { jkt } : {})
  if (!(await deps.store.bindAuthCode(id, tokens.session_id))) {
    // A replay arrived while this grant was being made: it dies too.
    await revokeSession(deps, tokens.session_id, 'code_replayed')
    throw invalidGrant('the code is invalid, expired or already used')
  }
  if (!deps.clients.isFileClient(client.clientId)) {
    // A client of the admin API: index the grant so that deleting the client revokes it,
    // then look again, in case the client was deleted while the grant was being made.
    await deps.store.addClientSession(client.clientId, tokens.session_id)
    if (await deps.clients.lookup(client.clientId) === undefined) {
      await revokeSession(deps, tokens.session_id, 'admin')
      throw new OAuthError('invalid_client', 'the client no longer exists', 401)
    }
  }
  await audit(deps, {
    type: 'login', userId: user.id, sessionId: tokens.session_id, clientId: client.clientId, ip: request.clientIp,
    userAgent: request.headers['user-agent']?.slice(0, 256), reason: 'authorization_code'
  })
  const reply = oauthTokenReply(client, tokens, grant.scope)
  if (splitScope(grant.scope).includes(OPENID)) {
    reply.id_token = issueIdToken(deps, {
      clientId: client.clientId,
      userId: user.id,
      sessionId: tokens.session_id,
      authTimeMs: grant.authTime,
      ...(grant.nonce !== undefined ? { nonce: grant.nonce } : {}),
      accessToken: tokens.access_token,
      now: deps.now(),
      alg: client.oauth.idTokenAlg
    })
  }
  return reply
}
