import type { KeyRing } from '../keys/key-ring.js'
import type { SessionKind } from '../store/store.js'
import { randomId } from './random.js'

export interface AccessTokenInput {
  issuer: string
  audience: string | string[]
  subject: string
  clientId: string
  /** What the token may do: its `ac_kind` claim (see sessions/kind.ts). */
  kind: SessionKind
  sessionId?: string
  scope?: string
  ttlMs: number
  now: number
  /** Confirmation claim for sender-constrained tokens (RFC 9449 `jkt`, or a cookie hash). */
  cnf?: Record<string, string>
  /** Hard upper bound of `exp` (sliding sessions: the session's absolute end). */
  notAfterMs?: number
}

export interface IssuedAccessToken {
  token: string
  jti: string
  expiresIn: number
  exp: number
}

// Frozen, so the key ring encodes it once per key (key-ring.ts protectedHeader), not per token.
const HEADER = Object.freeze({ typ: 'at+jwt' })

/**
 * An RFC 9068 access token (`typ: at+jwt`), plus `sid` and `ac_kind`. What the token
 * may do is always stated, never left to a missing claim: `ac_kind` is `first-party`
 * only for first-party logins, and OAuth2 tokens (`third-party`, `client`) always
 * carry `scope`, even empty, so a verifier never reads "no scope" as "everything".
 */
export function issueAccessToken (keys: KeyRing, input: AccessTokenInput): IssuedAccessToken {
  // `iat` carries milliseconds as decimals (a NumericDate may be fractional, RFC 7519 §2):
  // revocations compare issue times to the millisecond (docs/revocation-protocol.md), so
  // a revocation no longer kills the whole second it falls in, and a store reset covers
  // everything issued before it. `exp` stays a whole second.
  const ms = Math.floor(input.now)
  const second = Math.floor(ms / 1000)
  let expiresIn = Math.max(1, Math.round(input.ttlMs / 1000))
  if (input.notAfterMs !== undefined) expiresIn = Math.min(expiresIn, Math.floor(input.notAfterMs / 1000) - second)
  const jti = randomId()
  const payload: Record<string, unknown> = {
    iss: input.issuer,
    sub: input.subject,
    aud: input.audience,
    exp: second + expiresIn,
    iat: ms / 1000,
    jti,
    client_id: input.clientId
  }
  payload.ac_kind = input.kind
  if (input.sessionId !== undefined) payload.sid = input.sessionId
  if (input.kind !== 'first-party') payload.scope = input.scope ?? ''
  else if (input.scope !== undefined && input.scope !== '') payload.scope = input.scope
  if (input.cnf !== undefined) payload.cnf = input.cnf
  return { token: keys.signJws(HEADER, payload), jti, expiresIn, exp: second + expiresIn }
}
