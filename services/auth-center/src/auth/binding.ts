import { randomBytes } from 'node:crypto'
import {
  checkDpopProof, createDpopNonces, DpopError, FINGERPRINT_COOKIE, fingerprintHash, fingerprintMatches, readCookie, type DpopNonces
} from '@authcenter/verifier/dpop'
import type { TokenPolicy } from '../clients/client.js'
import type { Deps } from '../context.js'
import { InvalidDpopProofError, TokenBindingMismatchError, UseDpopNonceError } from '../errors.js'
import { revokeSession } from '../sessions/revoke.js'
import type { Session } from '../store/store.js'
import type { RequestFacts } from './request-facts.js'
import { recordRisk } from './risk.js'

/** What a login binds its session to (DPoP key, or fingerprint cookie). */
export interface LoginBinding {
  jkt?: string
  fgpHash?: string
  /** The fingerprint to set as a cookie, once, in the login answer. */
  fingerprint?: string
}

const nonceCache = new WeakMap<Buffer, DpopNonces>()
function nonces (deps: Deps): DpopNonces {
  const key = deps.keys.refreshMacKey
  let n = nonceCache.get(key)
  if (n === undefined) { n = createDpopNonces(key, deps.now); nonceCache.set(key, n) }
  return n
}

/**
 * Checks a DPoP proof sent to one of our own endpoints (RFC 9449 §5): `htu` is the
 * public URL (issuer + path). The jti replay cache is the store, so every replica
 * shares it and check-and-mark is one atomic step.
 */
export async function dpopProof (deps: Deps, facts: RequestFacts, path: string, jkt?: string, request: { method?: string, accessToken?: string } = {}): Promise<string> {
  try {
    const proof = await checkDpopProof({
      proof: facts.dpop,
      method: request.method ?? 'POST',
      url: deps.config.issuer + path,
      ...(jkt !== undefined ? { jkt } : {}),
      // At a resource endpoint (userinfo, admin API): `ath`, the hash of the token the proof comes with.
      ...(request.accessToken !== undefined ? { accessToken: request.accessToken } : {}),
      replay: { checkAndMark: async (key, expiresAtMs) => await deps.store.markOnce(`dpop:${key}`, Math.max(1, expiresAtMs - deps.now())) },
      nonces: nonces(deps),
      now: deps.now()
    })
    return proof.jkt
  } catch (err) {
    if (err instanceof DpopError) {
      if (err.code === 'USE_DPOP_NONCE') throw Object.assign(new UseDpopNonceError(), { dpopNonce: err.nonce })
      throw new InvalidDpopProofError(err.message)
    }
    throw err
  }
}

export async function bindAtLogin (deps: Deps, facts: RequestFacts, policy: TokenPolicy): Promise<LoginBinding> {
  switch (policy.binding) {
    case 'none': return {}
    case 'dpop': return { jkt: await dpopProof(deps, facts, '/auth/login') }
    case 'cookie': {
      const fingerprint = randomBytes(32).toString('base64url')
      return { fingerprint, fgpHash: fingerprintHash(fingerprint) }
    }
  }
}

/** `Set-Cookie` for the fingerprint: only the browser that logged in holds it, and no script can read it. */
export function fingerprintCookie (fingerprint: string, maxAgeSeconds: number): string {
  return `${FINGERPRINT_COOKIE}=${fingerprint}; Path=/; Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}; Secure; HttpOnly; SameSite=Strict`
}

/**
 * A refresh must come from the device that logged in. A proof from another key, no
 * proof, or a missing or wrong fingerprint cookie means the refresh token travelled
 * without its device: refuse, revoke the session, record a risk event.
 */
export async function checkBindingAtRefresh (deps: Deps, facts: RequestFacts, session: Session): Promise<void> {
  if (session.jkt !== undefined) {
    let jkt: string | undefined
    try {
      jkt = await dpopProof(deps, facts, facts.path ?? '/auth/refresh')
    } catch (err) {
      if ((err as { code?: string }).code === 'USE_DPOP_NONCE') throw err
      await refuse(deps, facts, session, facts.dpop === undefined ? 'dpop_proof_missing' : 'dpop_proof_invalid')
    }
    if (jkt !== session.jkt) await refuse(deps, facts, session, 'dpop_key_mismatch')
  }
  if (session.fgpHash !== undefined) {
    const fingerprint = readCookie(facts.cookie, FINGERPRINT_COOKIE)
    if (!fingerprintMatches(fingerprint, session.fgpHash)) {
      await refuse(deps, facts, session, fingerprint === undefined ? 'fingerprint_missing' : 'fingerprint_mismatch')
    }
  }
}

async function refuse (deps: Deps, facts: RequestFacts, session: Session, reason: string): Promise<never> {
  await recordRisk(deps, facts, session, reason, true)
  await revokeSession(deps, session.id, 'binding_mismatch')
  throw new TokenBindingMismatchError()
}
