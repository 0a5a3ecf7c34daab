import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { revokeClientToken, revokeSession } from '../sessions/revoke.js'
import { authenticateClient } from './client-auth.js'
import { OAuthError, invalidRequest } from './errors.js'
import { acceptForms, type Params } from './form.js'
import { authorizationCodeGrant } from './grants/authorization-code.js'
import { clientCredentialsGrant } from './grants/client-credentials.js'
import { OAuthTokenReply } from './grants/reply.js'
import { refreshTokenGrant } from './grants/refresh-token.js'
import { tokenEndpointBinding } from './dpop.js'
import { requestFacts } from '../auth/request-facts.js'
import { findRefreshSession, verifyOwnAccessToken } from './own-tokens.js'
import { isProblem, presentedToken, resourceChallenge, resourceToken, type PresentedToken } from '../auth/resource-token.js'
import { OPENID, splitScope } from './scopes.js'

export const OAuthErrorReply = Type.Object({ error: Type.String(), error_description: Type.Optional(Type.String()) })
const oauthReplies = <T extends object>(ok: T): T & { '4xx': typeof OAuthErrorReply, '5xx': typeof OAuthErrorReply } =>
  ({ ...ok, '4xx': OAuthErrorReply, '5xx': OAuthErrorReply })

/** Form bodies: any parameters (checked by each grant), flat strings. */
const FormBody = Type.Record(Type.String(), Type.String())

const IntrospectionReply = Type.Object({
  active: Type.Boolean(),
  scope: Type.Optional(Type.String()),
  client_id: Type.Optional(Type.String()),
  sub: Type.Optional(Type.String()),
  aud: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())])),
  iss: Type.Optional(Type.String()),
  exp: Type.Optional(Type.Integer()),
  iat: Type.Optional(Type.Integer()),
  jti: Type.Optional(Type.String()),
  sid: Type.Optional(Type.String()),
  token_type: Type.Optional(Type.String()),
  /** RFC 9449 §6.2: the key a DPoP-bound token is bound to. */
  cnf: Type.Optional(Type.Object({ jkt: Type.String() }))
})

const UserinfoReply = Type.Object({
  sub: Type.String(),
  phone_number: Type.Optional(Type.String()),
  phone_number_verified: Type.Optional(Type.Boolean())
})

/**
 * The OAuth2 JSON endpoints: token (RFC 6749), introspection (RFC 7662), revocation
 * (RFC 7009), OIDC userinfo. Errors here are `{error, error_description}`, from the
 * error handler of this (encapsulated) plugin.
 */
const oauthApiRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const deps = app.deps
  const { issuer } = deps.config
  acceptForms(app)
  app.setErrorHandler(oauthErrorHandler)

  app.post('/oauth/token', {
    schema: { body: FormBody, response: oauthReplies({ 200: OAuthTokenReply }) }
  }, async (request, reply) => {
    const params = request.body as Params
    noStore(reply)
    const grantType = params.grant_type
    if (grantType === undefined) throw invalidRequest('grant_type is required')
    if (!['authorization_code', 'client_credentials', 'refresh_token'].includes(grantType)) {
      throw new OAuthError('unsupported_grant_type', `grant_type ${grantType} is not supported`)
    }
    const authed = await authenticateClient(deps, request, params, `${issuer}/oauth/token`)
    if (!authed.client.oauth.grantTypes.includes(grantType as never)) {
      throw new OAuthError('unauthorized_client', `the client may not use ${grantType}`)
    }
    switch (grantType) {
      case 'authorization_code': return await authorizationCodeGrant(deps, request, params, authed, await tokenEndpointBinding(deps, request, reply, authed.client))
      case 'client_credentials': return await clientCredentialsGrant(deps, params, authed, await tokenEndpointBinding(deps, request, reply, authed.client))
      // A bound grant's refresh proves the key inside the rotation engine (sessions/refresh.ts).
      default: return await refreshTokenGrant(deps, params, authed, { ...requestFacts(request), path: '/oauth/token' })
    }
  })

  app.post('/oauth/introspect', {
    schema: { body: FormBody, response: oauthReplies({ 200: IntrospectionReply }) }
  }, async (request, reply) => {
    const params = request.body as Params
    noStore(reply)
    const { client, method } = await authenticateClient(deps, request, params, `${issuer}/oauth/introspect`)
    // RFC 7662 §2.1: the caller must be authorized; a public client's bare client_id proves nothing.
    if (method === 'none') throw new OAuthError('invalid_client', 'introspection requires client authentication', 401)
    const token = params.token
    if (token === undefined) throw invalidRequest('token is required')
    // Invalid, expired, revoked or another client's: only {active: false}.
    const inactive = { active: false }
    const access = token.includes('.') && token.split('.').length === 3 ? await verifyOwnAccessToken(deps, token) : undefined
    if (access !== undefined) {
      const c = access.claims
      if (c.client_id !== client.clientId) return inactive
      const jkt = typeof c.cnf?.jkt === 'string' ? c.cnf.jkt : undefined
      return {
        active: true,
        // RFC 9449 §6.2: a DPoP-bound token is of type DPoP, and says which key it is bound to.
        token_type: jkt !== undefined ? 'DPoP' : 'Bearer',
        ...(jkt !== undefined ? { cnf: { jkt } } : {}),
        ...(c.scope !== undefined ? { scope: c.scope } : {}),
        client_id: c.client_id,
        sub: c.sub!,
        ...(c.aud !== undefined ? { aud: c.aud } : {}),
        iss: c.iss!,
        exp: c.exp!,
        // Introspection answers whole seconds (RFC 7662); the token's iat has millisecond decimals.
        iat: Math.floor(c.iat!),
        ...(c.jti !== undefined ? { jti: c.jti } : {}),
        sid: access.sid
      }
    }
    const session = await findRefreshSession(deps, token)
    if (session === undefined || session.clientId !== client.clientId) return inactive
    const now = deps.now()
    if (session.revokedAt !== undefined || now >= session.expiresAt) return inactive
    return {
      active: true,
      token_type: 'refresh_token',
      // A bound grant's refresh token is usable only with its key (RFC 9449 §5): say which.
      ...(session.jkt !== undefined ? { cnf: { jkt: session.jkt } } : {}),
      ...(session.scope !== undefined ? { scope: session.scope } : {}),
      client_id: session.clientId,
      sub: session.userId,
      iss: issuer,
      exp: Math.floor(session.expiresAt / 1000),
      iat: Math.floor((session.rotatedAt || session.createdAt) / 1000),
      sid: session.id
    }
  })

  app.post('/oauth/revoke', {
    schema: { body: FormBody, response: oauthReplies({ 200: Type.Null() }) }
  }, async (request, reply) => {
    const params = request.body as Params
    const { client } = await authenticateClient(deps, request, params, `${issuer}/oauth/revoke`)
    const token = params.token
    if (token === undefined) throw invalidRequest('token is required')
    // RFC 7009 §2.2: 200 whatever the token was. A refresh token ends its grant; an
    // access token ends its grant too (its sid reaches verifiers through the denylist):
    // its session's, or for client credentials (nothing stored) that token alone.
    const session = await findRefreshSession(deps, token)
    if (session !== undefined) {
      if (session.clientId === client.clientId) await revokeSession(deps, session.id, 'oauth_revoked')
    } else {
      const access = await verifyOwnAccessToken(deps, token)
      if (access !== undefined && access.claims.client_id === client.clientId) {
        if (access.session !== undefined) await revokeSession(deps, access.session.id, 'oauth_revoked')
        else await revokeClientToken(deps, access, 'oauth_revoked')
      }
    }
    noStore(reply)
    return reply.code(200).send(null)
  })

  async function userinfo (request: FastifyRequest, reply: FastifyReply): Promise<{ sub: string, phone_number?: string, phone_number_verified?: boolean }> {
    noStore(reply)
    const header = request.headers.authorization
    // `Bearer <token>`, or `DPoP <token>` with a proof for a DPoP-bound token (RFC 9449 §7.1).
    const fromHeader = presentedToken(header)
    // RFC 6750 §2.2: a POST may carry the token as a form parameter instead, never both.
    const inBody = (request.body as Params | undefined)?.access_token
    if (inBody !== undefined && header !== undefined) throw invalidRequest('send the access token in one place only')
    const presented: PresentedToken | undefined = fromHeader ?? (inBody !== undefined ? { scheme: 'bearer', token: inBody } : undefined)
    if (presented === undefined) throw new OAuthError('invalid_request', 'a Bearer access token is required', 401, 'Bearer realm="userinfo"')
    const access = await resourceToken(deps, request, presented)
    if (isProblem(access)) {
      if (access.code === 'USE_DPOP_NONCE' && access.nonce !== undefined) reply.header('dpop-nonce', access.nonce)
      const error = access.code === 'INVALID_DPOP_PROOF' ? 'invalid_dpop_proof' : access.code === 'USE_DPOP_NONCE' ? 'use_dpop_nonce' : 'invalid_token'
      throw new OAuthError(error, access.message, 401, resourceChallenge('userinfo', access))
    }
    const scopes = splitScope(access.claims.scope)
    if (!scopes.includes(OPENID)) throw new OAuthError('insufficient_scope', 'the openid scope is required', 403, 'Bearer realm="userinfo", error="insufficient_scope", scope="openid"')
    // A client's own token never has openid (client-credentials.ts), so it stopped above.
    const user = access.session === undefined ? null : await deps.store.getUser(access.session.userId)
    if (user === null) throw new OAuthError('invalid_token', 'the access token is not valid', 401, 'Bearer realm="userinfo", error="invalid_token"')
    return {
      sub: user.id,
      ...(scopes.includes('phone') ? { phone_number: user.mobile, phone_number_verified: true } : {})
    }
  }
  app.get('/oauth/userinfo', { schema: { response: oauthReplies({ 200: UserinfoReply }) } }, userinfo)
  app.post('/oauth/userinfo', {
    // OIDC Core §5.3: POST with only the Bearer header (no body at all) is as valid as GET.
    preValidation: async (request) => { request.body ??= {} },
    schema: { body: FormBody, response: oauthReplies({ 200: UserinfoReply }) }
  }, userinfo)
}

function noStore (reply: FastifyReply): void {
  reply.header('cache-control', 'no-store').header('pragma', 'no-cache')
}

/** Everything thrown on an OAuth JSON endpoint, in RFC 6749 §5.2 shape. */
export function oauthErrorHandler (this: unknown, raw: FastifyError | OAuthError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  reply.header('cache-control', 'no-store')
  const nonce = (raw as { dpopNonce?: string }).dpopNonce
  if (nonce !== undefined) reply.header('dpop-nonce', nonce)
  if ((raw as { code?: string }).code === 'USE_DPOP_NONCE') {
    return reply.code(400).send({ error: 'use_dpop_nonce', error_description: 'retry with the DPoP-Nonce of this answer' })
  }
  if (raw instanceof OAuthError) {
    if (raw.challenge !== undefined) reply.header('www-authenticate', raw.challenge)
    return reply.code(raw.statusCode).send({ error: raw.error, error_description: raw.message })
  }
  const err = raw
  if (err.validation !== undefined) return reply.code(400).send({ error: 'invalid_request', error_description: err.message })
  if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
    return reply.code(400).send({ error: 'invalid_request', error_description: 'send application/x-www-form-urlencoded' })
  }
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return reply.code(400).send({ error: 'invalid_request', error_description: 'the body is too large' })
  const status = err.statusCode ?? 500
  if (err.code === 'STORE_UNAVAILABLE' || status === 503 || isStoreFailure(err)) {
    request.log.error({ err }, 'store unavailable')
    return reply.code(503).header('retry-after', '1').send({ error: 'temporarily_unavailable', error_description: 'the store is unavailable, try again shortly' })
  }
  if (status === 429) return reply.code(429).send({ error: 'slow_down', error_description: err.message })
  if (status >= 400 && status < 500) return reply.code(400).send({ error: 'invalid_request', error_description: err.message })
  request.log.error({ err }, 'request failed')
  return reply.code(500).send({ error: 'server_error', error_description: 'something went wrong' })
}

function isStoreFailure (err: Error & { code?: string }): boolean {
  return err.name === 'MaxRetriesPerRequestError' || /Connection is closed|Command timed out|Stream isn't writeable/.test(err.message) ||
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'NR_CLOSED'].includes(err.code ?? '')
}

export default oauthApiRoutes
