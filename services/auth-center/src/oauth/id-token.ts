import { createHash } from 'node:crypto'
import type { Deps } from '../context.js'

export interface IdTokenInput {
  clientId: string
  userId: string
  sessionId: string
  authTimeMs: number
  nonce?: string
  accessToken: string
  now: number
}

/**
 * An OpenID Connect ID token (Core §2): `typ: JWT` and `aud` = the client, so no
 * verifier ever takes it for an access token (they want `typ: at+jwt` and their own
 * audience). Signed with the access tokens' key, listed in the metadata.
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
    at_hash: atHash(deps.keys.alg, input.accessToken)
  }
  if (input.nonce !== undefined) payload.nonce = input.nonce
  return deps.keys.signJws({ typ: 'JWT' }, payload)
}

/** OIDC Core §3.1.3.6: left half of the hash of the access token (SHA-512 for Ed25519, SHA-256 otherwise). */
function atHash (alg: string, token: string): string {
  const digest = createHash(alg === 'EdDSA' ? 'sha512' : 'sha256').update(token, 'ascii').digest()
  return digest.subarray(0, digest.length / 2).toString('base64url')
}
