import { createHash } from 'node:crypto'
import type { Deps } from '../context.js'
import type { IdTokenAlg } from './client-config.js'

export interface IdTokenInput {
  clientId: string
  userId: string
  sessionId: string
  authTimeMs: number
  nonce?: string
  accessToken: string
  now: number
  /** The client's id_token_signed_response_alg (RS256 by default). */
  alg: IdTokenAlg
}

/**
 * An OpenID Connect ID token (Core §2): `typ: JWT` and `aud` = the client, so no
 * verifier ever takes it for an access token (they want `typ: at+jwt` and their own
 * audience). RS256 by default (OpenID Discovery: RP libraries expect it), with the
 * ID-token key of the key ring, whatever the access tokens use; a client that
 * registered the access-token algorithm gets that instead.
 */
export function issueIdToken (deps: Deps, input: IdTokenInput): string {
  const iat = Math.floor(input.now / 1000)
  const payload: Record<string, unknown> = {
    iss: deps.config.issuer,
    sub: input.userId,
    aud: input.clientId,
    azp: input.clientId,
    exp: iat + 300,
    iat,
    auth_time: Math.floor(input.authTimeMs / 1000),
    sid: input.sessionId,
    at_hash: atHash(input.alg, input.accessToken)
  }
  if (input.nonce !== undefined) payload.nonce = input.nonce
  return deps.keys.signIdToken(input.alg, { typ: 'JWT' }, payload)
}

/** OIDC Core §3.1.3.6: left half of the hash of the access token, with the ID token's hash (SHA-512 for Ed25519, SHA-256 otherwise). */
function atHash (alg: string, token: string): string {
  const digest = createHash(alg === 'EdDSA' ? 'sha512' : 'sha256').update(token, 'ascii').digest()
  return digest.subarray(0, digest.length / 2).toString('base64url')
}
