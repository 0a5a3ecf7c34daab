import type { FastifyRequest } from 'fastify'
import { FINGERPRINT_COOKIE, fingerprintMatches, readCookie } from '@authcenter/verifier/dpop'
import type { Deps } from '../context.js'
import { verifyOwnAccessToken, type OwnAccessToken } from '../oauth/own-tokens.js'
import { dpopProof } from './binding.js'
import { requestFacts } from './request-facts.js'

/** An access token as a request presents it: `Authorization: Bearer <token>` or `DPoP <token>` (RFC 6750, RFC 9449 §7.1). */
export interface PresentedToken {
  scheme: 'bearer' | 'dpop'
  token: string
}

export function presentedToken (header: string | undefined): PresentedToken | undefined {
  const m = header === undefined ? null : /^(Bearer|DPoP) +(\S+) *$/i.exec(header)
  if (m === null) return undefined
  return { scheme: m[1]!.toLowerCase() === 'dpop' ? 'dpop' : 'bearer', token: m[2]! }
}

/** Why a presented token is refused at one of our resource endpoints. */
export type ResourceTokenProblem =
  | { code: 'INVALID_TOKEN', message: string }
  | { code: 'INVALID_DPOP_PROOF' | 'TOKEN_BINDING_MISMATCH', message: string }
  | { code: 'USE_DPOP_NONCE', message: string, nonce?: string }

/**
 * The auth center's own resource endpoints that take an access token without the
 * verifier plugin (`/oauth/userinfo`, the admin API): one of our tokens, still live
 * (oauth/own-tokens.ts), and bound tokens only with what they are bound to. A
 * DPoP-bound token (`cnf.jkt`) is refused as Bearer and needs the DPoP scheme and a
 * proof for this request (method, issuer + path, `ath`, its key, single use across
 * replicas); the DPoP scheme with an unbound token is refused too (RFC 9449 §7.1, §7.2).
 * A cookie-bound token (`cnf.fgp`) needs its fingerprint cookie.
 */
export async function resourceToken (deps: Deps, request: FastifyRequest, presented: PresentedToken): Promise<OwnAccessToken | ResourceTokenProblem> {
  const access = await verifyOwnAccessToken(deps, presented.token)
  if (access === undefined) return { code: 'INVALID_TOKEN', message: 'the access token is not valid' }
  const cnf = access.claims.cnf
  const jkt = typeof cnf?.jkt === 'string' ? cnf.jkt : undefined
  if (jkt === undefined) {
    if (presented.scheme === 'dpop') return { code: 'INVALID_DPOP_PROOF', message: 'the DPoP scheme was used with a token that is not DPoP-bound' }
  } else {
    if (presented.scheme !== 'dpop') return { code: 'INVALID_DPOP_PROOF', message: 'a DPoP-bound token must be sent with the DPoP scheme and a proof' }
    const path = request.url.split('?')[0]!
    try {
      await dpopProof(deps, requestFacts(request), path, jkt, { method: request.method, accessToken: presented.token })
    } catch (err) {
      const e = err as { code?: string, message: string, dpopNonce?: string }
      if (e.code === 'USE_DPOP_NONCE') return { code: 'USE_DPOP_NONCE', message: 'retry with the DPoP-Nonce of this answer', ...(e.dpopNonce !== undefined ? { nonce: e.dpopNonce } : {}) }
      if (e.code === 'INVALID_DPOP_PROOF') return { code: 'INVALID_DPOP_PROOF', message: e.message }
      throw err
    }
  }
  if (typeof cnf?.fgp === 'string' && !fingerprintMatches(readCookie(request.headers.cookie, FINGERPRINT_COOKIE), cnf.fgp)) {
    return { code: 'TOKEN_BINDING_MISMATCH', message: 'the token is bound to a fingerprint cookie that did not come with it' }
  }
  return access
}

export function isProblem (v: OwnAccessToken | ResourceTokenProblem): v is ResourceTokenProblem {
  return 'code' in v
}

/** The `WWW-Authenticate` challenge for a refusal (RFC 6750 §3, RFC 9449 §7.1: DPoP errors get a DPoP challenge). */
export function resourceChallenge (realm: string, problem: ResourceTokenProblem): string {
  const description = problem.message.replace(/["\\]/g, "'")
  switch (problem.code) {
    case 'INVALID_DPOP_PROOF': return `DPoP realm="${realm}", error="invalid_dpop_proof", error_description="${description}", algs="ES256 EdDSA RS256 PS256"`
    case 'USE_DPOP_NONCE': return `DPoP realm="${realm}", error="use_dpop_nonce", error_description="${description}", algs="ES256 EdDSA RS256 PS256"`
    default: return `Bearer realm="${realm}", error="invalid_token", error_description="${description}"`
  }
}
