/**
 * Codes that end the session: the SDK forgets its tokens and emits `logout`
 * with the code as the reason. Everything else leaves the session alone.
 */
export const sessionEndingCodes = [
  'SESSION_REVOKED', 'REFRESH_TOKEN_REUSED', 'REFRESH_TOKEN_EXPIRED', 'REFRESH_TOKEN_INVALID',
  'TOKEN_BINDING_MISMATCH', 'SESSION_EXPIRED', 'TOKEN_REVOKED', 'TOKEN_INVALID', 'REFRESH_NOT_ALLOWED'
] as const

/** Codes the SDK itself raises (the others come from the servers, see the README's error table). */
export const clientErrorCodes = {
  NOT_LOGGED_IN: 'There is no session: log in first',
  NETWORK_ERROR: 'The server could not be reached',
  UNEXPECTED_RESPONSE: 'The server answered something that is not the documented JSON'
} as const

/** Codes a caller may `switch` on; servers may add codes, hence the open string. */
export type AuthErrorCode =
  | keyof typeof clientErrorCodes
  | typeof sessionEndingCodes[number]
  | 'TOKEN_EXPIRED' | 'TOKEN_MISSING' | 'TOKEN_MALFORMED' | 'INVALID_DPOP_PROOF' | 'USE_DPOP_NONCE' | 'INSUFFICIENT_SCOPE'
  | 'INVALID_CODE' | 'INVALID_CREDENTIALS' | 'INVALID_MOBILE' | 'RATE_LIMITED' | 'SMS_DELIVERY_FAILED' | 'UNKNOWN_CLIENT'
  | 'STORE_UNAVAILABLE' | 'FIRST_PARTY_ONLY'
  | (string & {})

/**
 * The one error the SDK throws for what a server refused or could not do. Misuse
 * of the API (bad options) throws a plain `TypeError` instead.
 *
 * @example
 * ```ts
 * try { await auth.loginWithCode(mobile, code) } catch (err) {
 *   if (err instanceof AuthError && err.code === 'INVALID_CODE') showWrongCode()
 * }
 * ```
 */
export class AuthError extends Error {
  /** Stable reason: the server's `code` (or OAuth `error`), or one of {@link clientErrorCodes}. */
  readonly code: AuthErrorCode
  /** The HTTP status, 0 when no answer arrived. */
  readonly status: number
  /** Seconds to wait, from `Retry-After` (`RATE_LIMITED`). */
  readonly retryAfter?: number

  constructor (code: AuthErrorCode, message: string, options: { status?: number, retryAfter?: number, cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'AuthError'
    this.code = code
    this.status = options.status ?? 0
    if (options.retryAfter !== undefined) this.retryAfter = options.retryAfter
  }
}

/** Whether this code means the session is over (log in again). */
export function endsSession (code: string): boolean {
  return (sessionEndingCodes as readonly string[]).includes(code)
}

/** The error a failed answer stands for: `{code, message}` (first-party) or `{error, error_description}` (OAuth). */
export async function errorFrom (res: Response): Promise<AuthError> {
  let body: { code?: unknown, message?: unknown, error?: unknown, error_description?: unknown } = {}
  try { body = await res.clone().json() } catch { /* not JSON: UNEXPECTED_RESPONSE below */ }
  const code = typeof body.code === 'string' ? body.code : typeof body.error === 'string' ? body.error : 'UNEXPECTED_RESPONSE'
  const message = typeof body.message === 'string' ? body.message : typeof body.error_description === 'string' ? body.error_description : `HTTP ${res.status}`
  const retry = Number(res.headers.get('retry-after'))
  return new AuthError(code, message, { status: res.status, ...(retry > 0 ? { retryAfter: retry } : {}) })
}

export function networkError (cause: unknown): AuthError {
  return new AuthError('NETWORK_ERROR', clientErrorCodes.NETWORK_ERROR, { cause })
}
