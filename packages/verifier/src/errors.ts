/**
 * Every way a token can be refused, with the HTTP status a server should
 * answer. The README's error table is checked against this object by a test.
 */
export const errorCodes = {
  TOKEN_MISSING: { statusCode: 401, description: 'No access token was presented (no `Authorization: Bearer` header, or an empty value).' },
  TOKEN_MALFORMED: { statusCode: 401, description: 'Not a compact JWS: wrong number of segments (a JWE has five), bad base64url, bad JSON, a header or payload that is not a JSON object, not a string, or larger than `maxTokenBytes`.' },
  TOKEN_EXPIRED: { statusCode: 401, description: '`exp` is in the past by more than `clockTolerance`. Refresh the token.' },
  TOKEN_INVALID: { statusCode: 401, description: 'Signature, algorithm, `typ`, header, key, `iss`, `aud`, `nbf`, `iat` or a required claim is wrong. Log in again.' },
  TOKEN_REVOKED: { statusCode: 401, description: 'The session behind the token, or every session of its user issued before a time, was revoked (revocation feed). Log in again.' },
  INVALID_DPOP_PROOF: { statusCode: 401, description: 'A DPoP-bound token (`cnf.jkt`, RFC 9449) came without exactly one valid `DPoP` proof for this request and key, or with the `Bearer` scheme.' },
  USE_DPOP_NONCE: { statusCode: 401, description: 'The DPoP proof\'s clock is off (or its nonce is stale): retry with the `DPoP-Nonce` of the answer.' },
  TOKEN_BINDING_MISMATCH: { statusCode: 401, description: 'A cookie-bound token (`cnf.fgp`) came without its fingerprint cookie, or with another one.' },
  INSUFFICIENT_SCOPE: { statusCode: 403, description: 'The token is valid but lacks a scope the route requires.' },
  JWKS_UNAVAILABLE: { statusCode: 503, description: 'No verification key could be obtained at all (the first JWKS fetch failed). Retry later.' },
  REVOCATION_UNAVAILABLE: { statusCode: 503, description: 'The revocation list is not fresh (never loaded, or not reloaded for longer than `maxStaleness`) and `failMode` is `closed`. Retry later.' }
} as const satisfies Record<string, { statusCode: number, description: string }>

/** The `code` of a {@link TokenError}; `switch (err.code)` is exhaustive over it. */
export type TokenErrorCode = keyof typeof errorCodes

/**
 * The one error the verifier throws for a token it refuses. Misuse of the API
 * (bad options) throws a plain `TypeError` instead.
 *
 * @example
 * ```ts
 * try {
 *   await verify(token)
 * } catch (err) {
 *   if (err instanceof TokenError && err.code === 'TOKEN_EXPIRED') refresh()
 * }
 * ```
 */
export class TokenError extends Error {
  /** Stable, machine-readable reason; clients decide "refresh or log in" from it. */
  readonly code: TokenErrorCode
  /** 401, 403 for `INSUFFICIENT_SCOPE`, 503 for `JWKS_UNAVAILABLE` and `REVOCATION_UNAVAILABLE`. */
  readonly statusCode: number

  /** With `USE_DPOP_NONCE`: the nonce to send as `DPoP-Nonce`. */
  readonly nonce?: string

  constructor (code: TokenErrorCode, message: string, options?: { cause?: unknown, nonce?: string }) {
    super(message, options)
    if (options?.nonce !== undefined) this.nonce = options.nonce
    this.name = 'TokenError'
    this.code = code
    this.statusCode = errorCodes[code].statusCode
  }
}
