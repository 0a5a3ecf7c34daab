import type { FastifyReply, FastifyRequest } from 'fastify'
import { dpopProof } from '../auth/binding.js'
import { requestFacts } from '../auth/request-facts.js'
import type { Client } from '../clients/client.js'
import type { Deps } from '../context.js'
import { OAuthError } from './errors.js'

/** DPoP proof algorithms accepted at the token endpoint and by verifiers (metadata). */
export const DPOP_ALGS = ['ES256', 'EdDSA', 'RS256', 'PS256']

/**
 * RFC 9449 §5 at the token endpoint: a client whose policy says `binding: dpop` must
 * send a proof; any other client may (the tokens are then bound too). Returns the
 * key thumbprint the grant is bound to, or undefined. Errors in RFC shape:
 * 400 invalid_dpop_proof, or use_dpop_nonce with the nonce in `DPoP-Nonce`.
 */
export async function tokenEndpointBinding (deps: Deps, request: FastifyRequest, reply: FastifyReply, client: Client): Promise<string | undefined> {
  const facts = { ...requestFacts(request), path: '/oauth/token' }
  if (facts.dpop === undefined && client.policy.binding !== 'dpop') return undefined
  try {
    return await dpopProof(deps, facts, '/oauth/token')
  } catch (err) {
    const e = err as { code?: string, dpopNonce?: string, message: string }
    if (e.code === 'USE_DPOP_NONCE') {
      if (e.dpopNonce !== undefined) reply.header('dpop-nonce', e.dpopNonce)
      throw new OAuthError('use_dpop_nonce', 'retry with the DPoP-Nonce of this answer')
    }
    if (e.code === 'INVALID_DPOP_PROOF') throw new OAuthError('invalid_dpop_proof', e.message)
    throw err
  }
}
