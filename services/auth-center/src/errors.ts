import createError from '@fastify/error'

/**
 * Every coded error the auth center answers with, in one place. The README's error
 * table is checked against this list by test/readme.test.ts.
 * Body shape (Fastify's): {statusCode, code, error, message}.
 */
export const StoreUnavailableError = createError('STORE_UNAVAILABLE', 'The session store is unavailable, try again shortly', 503)
export const RateLimitedError = createError<[string]>('RATE_LIMITED', 'Too many requests: %s', 429)
export const InvalidCodeError = createError('INVALID_CODE', 'The code is wrong or has expired', 400)
export const InvalidCredentialsError = createError('INVALID_CREDENTIALS', 'The mobile number or password is wrong', 401)
export const InvalidMobileError = createError('INVALID_MOBILE', 'The mobile number is not valid', 400)
export const RefreshTokenInvalidError = createError('REFRESH_TOKEN_INVALID', 'The refresh token is not valid', 401)
export const RefreshTokenExpiredError = createError('REFRESH_TOKEN_EXPIRED', 'The refresh token has expired, log in again', 401)
export const RefreshTokenReusedError = createError('REFRESH_TOKEN_REUSED', 'The refresh token was already used; the session is revoked', 401)
export const SessionRevokedError = createError('SESSION_REVOKED', 'The session has been revoked, log in again', 401)
export const PasswordRequiredError = createError('CURRENT_PASSWORD_REQUIRED', 'current_password (or, when no password is set yet, code) is required', 400)
export const WeakPasswordError = createError<[string]>('WEAK_PASSWORD', 'The new password is too weak: %s', 400)
export const SmsDeliveryError = createError('SMS_DELIVERY_FAILED', 'The code could not be delivered, try again', 502)
export const SmsCountryNotAllowedError = createError('SMS_COUNTRY_NOT_ALLOWED', 'Login codes are not sent to numbers of this country', 400)
export const SmsBudgetExhaustedError = createError('SMS_BUDGET_EXHAUSTED', 'No more login codes can be sent today, try again later or log in with a password', 503)
export const PasswordCheckBusyError = createError('PASSWORD_CHECK_BUSY', 'Too many password checks are running, try again shortly', 503)

export const UnknownClientError = createError('UNKNOWN_CLIENT', 'Unknown client_id', 400)
export const LoginMethodError = createError('LOGIN_METHOD', 'Send exactly one of code or password', 400)
export const BodyTooLargeError = createError('BODY_TOO_LARGE', 'The request body is too large', 400)
export const SessionNotFoundError = createError('SESSION_NOT_FOUND', 'No such session', 404)
export const UserNotFoundError = createError('USER_NOT_FOUND', 'No such user', 404)
export const SessionExpiredError = createError('SESSION_EXPIRED', 'The session reached its maximum length, log in again', 401)
export const SlidingNotAllowedError = createError('SLIDING_NOT_ALLOWED', 'This client\'s sessions do not slide', 400)
export const RefreshNotAllowedError = createError('REFRESH_NOT_ALLOWED', 'This client\'s sessions have no refresh token', 400)
export const InvalidDpopProofError = createError<[string]>('INVALID_DPOP_PROOF', 'The DPoP proof is not valid: %s', 400)
export const UseDpopNonceError = createError('USE_DPOP_NONCE', 'Retry with the DPoP-Nonce this answer carries', 400)
export const TokenBindingMismatchError = createError('TOKEN_BINDING_MISMATCH', 'The token was presented without the device it is bound to; the session is revoked', 401)
export const FirstPartyOnlyError = createError('FIRST_PARTY_ONLY', 'This endpoint takes first-party access tokens only', 403)
export const AdminUnauthorizedError = createError('ADMIN_UNAUTHORIZED', 'The admin credential is missing or wrong', 401)
export const AdminForbiddenError = createError('ADMIN_FORBIDDEN', 'The access token lacks the admin scope', 403)
export const MetricsUnauthorizedError = createError('METRICS_UNAUTHORIZED', 'GET /metrics wants Authorization: Bearer <METRICS_TOKEN>', 401)
export const RevocationFeedUnauthorizedError = createError('REVOCATION_FEED_UNAUTHORIZED', 'The revocation feed wants a client-credentials access token (scope revocations:read)', 401)
export const RevocationFeedForbiddenError = createError('REVOCATION_FEED_FORBIDDEN', 'The access token lacks the revocations:read scope', 403)
export const ClientNotFoundError = createError('CLIENT_NOT_FOUND', 'No such OAuth2 client', 404)
export const ClientExistsError = createError('CLIENT_EXISTS', 'A client with this client_id exists already', 409)
export const ClientReadOnlyError = createError('CLIENT_READ_ONLY', 'This client comes from the clients file: change it there', 409)
export const NotFoundError = createError('NOT_FOUND', 'Not found', 404)
export const ShuttingDownError = createError('SHUTTING_DOWN', 'This replica is shutting down: use another one', 503)
export const InvalidClientMetadataError = createError<[string]>('INVALID_CLIENT_METADATA', 'The client registration is not valid: %s', 400)

/** Codes answered by the auth center's first-party JSON endpoints (besides the verifier's TOKEN_* codes). */
export const errorCodes = [
  'STORE_UNAVAILABLE', 'RATE_LIMITED', 'INVALID_CODE', 'INVALID_CREDENTIALS', 'INVALID_MOBILE',
  'REFRESH_TOKEN_INVALID', 'REFRESH_TOKEN_EXPIRED', 'REFRESH_TOKEN_REUSED', 'SESSION_REVOKED',
  'CURRENT_PASSWORD_REQUIRED', 'WEAK_PASSWORD', 'SMS_DELIVERY_FAILED', 'SMS_COUNTRY_NOT_ALLOWED', 'SMS_BUDGET_EXHAUSTED', 'PASSWORD_CHECK_BUSY', 'LOGIN_METHOD', 'UNKNOWN_CLIENT', 'FST_ERR_VALIDATION', 'BODY_TOO_LARGE',
  'SESSION_NOT_FOUND', 'USER_NOT_FOUND', 'ADMIN_UNAUTHORIZED', 'SESSION_EXPIRED', 'SLIDING_NOT_ALLOWED', 'REFRESH_NOT_ALLOWED',
  'INVALID_DPOP_PROOF', 'USE_DPOP_NONCE', 'TOKEN_BINDING_MISMATCH', 'FIRST_PARTY_ONLY',
  'ADMIN_FORBIDDEN', 'REVOCATION_FEED_UNAUTHORIZED', 'REVOCATION_FEED_FORBIDDEN', 'CLIENT_NOT_FOUND', 'CLIENT_EXISTS', 'CLIENT_READ_ONLY', 'INVALID_CLIENT_METADATA',
  'NOT_FOUND', 'SHUTTING_DOWN'
] as const
