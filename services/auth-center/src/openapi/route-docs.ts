import { Type, type TObject } from '@sinclair/typebox'
import type { TokenErrorCode } from '@authcenter/verifier'
import type { errorCodes } from '../errors.js'
import type { OAuthErrorCode } from '../oauth/errors.js'

/**
 * Codes a route can answer: the auth center's registry (errors.ts), the verifier's
 * TOKEN_* codes, Fastify's validation code, and the RFC 6749 `error` values of the
 * OAuth endpoints. Typed against the registries, so a code that is renamed or
 * removed there stops the build here.
 */
export type ErrorCode = typeof errorCodes[number] | TokenErrorCode | OAuthErrorCode

/** The security schemes of components.securitySchemes (openapi/plugin.ts). */
export type SchemeName = 'bearer' | 'dpop' | 'admin' | 'oauthClient' | 'revocationFeed'

export interface RouteDoc {
  summary: string
  /** Alternatives, any one of which is accepted (OpenAPI security requirement objects). */
  security?: ReadonlyArray<Partial<Record<SchemeName, readonly string[]>>>
  /** The codes the route answers besides those its hooks and schemas imply (plugin.ts adds those). */
  errors?: readonly ErrorCode[]
  /** Request media types when the body is not JSON (the OAuth endpoints take forms). */
  consumes?: readonly string[]
  /**
   * The query parameters, when the route validates its query as a record that
   * OpenAPI cannot spell as parameters (GET /oauth/authorize checks them itself).
   */
  querystring?: TObject
}

const LOGIN_CODE: readonly ErrorCode[] = ['INVALID_CODE', 'SMS_BUDGET_EXHAUSTED', 'SMS_COUNTRY_NOT_ALLOWED', 'SMS_DELIVERY_FAILED', 'RATE_LIMITED']
const BINDING: readonly ErrorCode[] = ['INVALID_DPOP_PROOF', 'USE_DPOP_NONCE', 'TOKEN_BINDING_MISMATCH']
const OAUTH_CLIENT = [{ oauthClient: [] }, {}] as const
const ADMIN = [{ admin: [] }] as const
const ADMIN_ERRORS: readonly ErrorCode[] = ['ADMIN_UNAUTHORIZED', 'ADMIN_FORBIDDEN']
const FEED = [{ revocationFeed: ['revocations:read'] }] as const
const FEED_ERRORS: readonly ErrorCode[] = ['REVOCATION_FEED_UNAUTHORIZED', 'REVOCATION_FEED_FORBIDDEN']
const HTML_FORM: readonly ErrorCode[] = ['invalid_request', 'access_denied', 'login_required', 'consent_required']
const FORM = ['application/x-www-form-urlencoded'] as const
const param = (description: string): ReturnType<typeof Type.Optional> => Type.Optional(Type.String({ description }))
/** RFC 6749 §4.1.1, RFC 7636, OIDC Core §3.1.2.1, RFC 9101 (request objects are refused). */
const AuthorizeQuery = Type.Object({
  response_type: Type.String({ description: 'code' }),
  client_id: Type.String(),
  redirect_uri: param('one of the client\'s registered redirect URIs'),
  scope: param('space-separated scopes'),
  state: param('returned unchanged'),
  code_challenge: Type.String({ description: 'PKCE (RFC 7636), required' }),
  code_challenge_method: Type.String({ description: 'S256' }),
  nonce: param('OpenID Connect: copied into the ID token'),
  prompt: param('none, login or consent'),
  max_age: param('seconds since the last sign-in'),
  request: param('refused: request_not_supported'),
  request_uri: param('refused: request_uri_not_supported')
})

/**
 * One entry per route, keyed `METHOD /path`. test/openapi.test.ts fails when a
 * registered route has no entry here or an entry names no registered route, so the
 * table cannot drift from the routes.
 */
export const routeDocs: Readonly<Record<string, RouteDoc>> = {
  'GET /healthz': { summary: 'Liveness: the process answers' },
  'GET /readyz': { summary: 'Readiness: the store answers and no shutdown has begun', errors: ['SHUTTING_DOWN'] },
  'GET /.well-known/jwks.json': { summary: 'The public signing keys (current and those whose tokens may still be alive)' },
  'GET /.well-known/oauth-authorization-server': { summary: 'OAuth 2.0 authorization server metadata (RFC 8414)' },
  'GET /.well-known/openid-configuration': { summary: 'OpenID Connect discovery' },
  'POST /auth/sms-code': { summary: 'Send a six-digit login code by SMS', errors: ['INVALID_MOBILE', ...LOGIN_CODE] },
  'POST /auth/login': {
    summary: 'Log in with an SMS code (creates the account on first use) or a password',
    errors: ['LOGIN_METHOD', 'INVALID_MOBILE', 'UNKNOWN_CLIENT', 'INVALID_CREDENTIALS', 'PASSWORD_CHECK_BUSY', ...LOGIN_CODE, ...BINDING]
  },
  'POST /auth/refresh': {
    summary: 'Rotate a refresh token: new access and refresh tokens; reuse of a rotated token revokes the session',
    errors: ['REFRESH_TOKEN_INVALID', 'REFRESH_TOKEN_EXPIRED', 'REFRESH_TOKEN_REUSED', 'REFRESH_NOT_ALLOWED', 'SESSION_REVOKED', 'RATE_LIMITED', ...BINDING]
  },
  'POST /auth/slide': {
    summary: 'Renew a sliding session before it lapses',
    errors: ['SLIDING_NOT_ALLOWED', 'SESSION_EXPIRED', 'SESSION_REVOKED']
  },
  'POST /auth/logout': { summary: 'End the current session (revoked at every verifier)' },
  'PUT /auth/password': {
    summary: 'Set or change the password; every other session is revoked',
    errors: ['CURRENT_PASSWORD_REQUIRED', 'INVALID_CREDENTIALS', 'WEAK_PASSWORD', 'INVALID_CODE', 'PASSWORD_CHECK_BUSY', 'RATE_LIMITED']
  },
  'GET /auth/sessions': { summary: 'The live sessions (devices) of the token\'s user, the current one marked' },
  'DELETE /auth/sessions/{id}': { summary: 'Kick one device', errors: ['SESSION_NOT_FOUND'] },
  'DELETE /auth/sessions': { summary: 'Log out everywhere else (others=true)' },
  'GET /auth/consents': { summary: 'The third-party clients the user has granted scopes to' },
  'DELETE /auth/consents/{client_id}': { summary: 'Withdraw a consent and revoke that client\'s grants' },
  'GET /oauth/authorize': { summary: 'Authorization endpoint (code + PKCE): the login and consent page', errors: HTML_FORM, querystring: AuthorizeQuery },
  'POST /oauth/authorize/sms-code': { summary: 'The login page sends an SMS code', errors: HTML_FORM, consumes: FORM },
  'POST /oauth/authorize/login': { summary: 'The login page signs the user in', errors: HTML_FORM, consumes: FORM },
  'POST /oauth/authorize/consent': { summary: 'The consent page grants or refuses the scopes', errors: HTML_FORM, consumes: FORM },
  'POST /oauth/authorize/logout': { summary: 'Sign out of the authorization server\'s browser session', errors: HTML_FORM, consumes: FORM },
  'POST /oauth/token': {
    summary: 'Token endpoint: authorization_code, refresh_token, client_credentials',
    security: OAUTH_CLIENT,
    consumes: FORM,
    errors: ['invalid_request', 'invalid_client', 'invalid_grant', 'unauthorized_client', 'unsupported_grant_type', 'invalid_scope', 'invalid_dpop_proof', 'use_dpop_nonce', 'temporarily_unavailable']
  },
  'POST /oauth/introspect': { summary: 'Token introspection (RFC 7662)', security: [{ oauthClient: [] }], consumes: FORM, errors: ['invalid_request', 'invalid_client', 'temporarily_unavailable'] },
  'POST /oauth/revoke': { summary: 'Token revocation (RFC 7009)', security: OAUTH_CLIENT, consumes: FORM, errors: ['invalid_request', 'invalid_client', 'temporarily_unavailable'] },
  'GET /oauth/userinfo': { summary: 'OpenID Connect UserInfo', security: [{ bearer: [] }, { dpop: [] }], errors: ['invalid_token', 'insufficient_scope', 'invalid_dpop_proof', 'use_dpop_nonce'] },
  'POST /oauth/userinfo': { summary: 'OpenID Connect UserInfo (the token may come in the form instead)', security: [{ bearer: [] }, { dpop: [] }], consumes: FORM, errors: ['invalid_token', 'insufficient_scope', 'invalid_dpop_proof', 'use_dpop_nonce'] },
  'GET /revocations': { summary: 'Revocation feed snapshot (docs/revocation-protocol.md)', security: FEED, errors: FEED_ERRORS },
  'GET /revocations/stream': { summary: 'Revocation feed stream (server-sent events, resumable with cursor or Last-Event-ID)', security: FEED, errors: FEED_ERRORS },
  'POST /admin/clients': { summary: 'Register a third-party OAuth2 client (the secret is answered once)', security: ADMIN, errors: [...ADMIN_ERRORS, 'INVALID_CLIENT_METADATA', 'CLIENT_EXISTS'] },
  'GET /admin/clients': { summary: 'The OAuth2 clients, from the clients file and registered here', security: ADMIN, errors: ADMIN_ERRORS },
  'GET /admin/clients/{id}': { summary: 'One OAuth2 client', security: ADMIN, errors: [...ADMIN_ERRORS, 'CLIENT_NOT_FOUND'] },
  'DELETE /admin/clients/{id}': { summary: 'Remove a registered client and revoke its grants', security: ADMIN, errors: [...ADMIN_ERRORS, 'CLIENT_NOT_FOUND', 'CLIENT_READ_ONLY'] },
  'POST /admin/users/{id}/logout': { summary: 'Force-logout every session of a user', security: ADMIN, errors: [...ADMIN_ERRORS, 'USER_NOT_FOUND'] },
  'DELETE /admin/sessions/{id}': { summary: 'Revoke one session', security: ADMIN, errors: [...ADMIN_ERRORS, 'SESSION_NOT_FOUND'] },
  'GET /admin/users/{id}/sessions': { summary: 'A user\'s live sessions', security: ADMIN, errors: [...ADMIN_ERRORS, 'USER_NOT_FOUND'] },
  'GET /admin/users/{id}/risk-events': { summary: 'A user\'s security events (refresh from another device, reuse, …)', security: ADMIN, errors: [...ADMIN_ERRORS, 'USER_NOT_FOUND'] },
  'GET /admin/events': { summary: 'The audit log: filter by user, type (comma-separated) and time; paginated by next_cursor', security: ADMIN, errors: [...ADMIN_ERRORS, 'FST_ERR_VALIDATION'] }
}
