/**
 * OAuth2 errors (RFC 6749 §5.2, RFC 6750 §3.1, RFC 7009, RFC 7662): the OAuth
 * endpoints answer `{error, error_description}`, not the first-party shape.
 */
export const oauthErrorCodes = [
  'invalid_request', 'invalid_client', 'invalid_grant', 'unauthorized_client',
  'unsupported_grant_type', 'invalid_scope', 'access_denied', 'unsupported_response_type',
  'server_error', 'temporarily_unavailable', 'invalid_token', 'insufficient_scope',
  'login_required', 'consent_required', 'invalid_dpop_proof', 'use_dpop_nonce'
] as const
export type OAuthErrorCode = typeof oauthErrorCodes[number]

export class OAuthError extends Error {
  override name = 'OAuthError'
  readonly error: OAuthErrorCode
  readonly statusCode: number
  /** A WWW-Authenticate header to send with it (401 invalid_client after Basic, userinfo's Bearer). */
  readonly challenge: string | undefined

  constructor (error: OAuthErrorCode, description: string, statusCode = 400, challenge?: string) {
    super(description)
    this.error = error
    this.statusCode = statusCode
    this.challenge = challenge
  }
}

export const invalidRequest = (why: string): OAuthError => new OAuthError('invalid_request', why)
export const invalidGrant = (why: string): OAuthError => new OAuthError('invalid_grant', why)
