import { createHash, timingSafeEqual } from 'node:crypto'

/** RFC 7636: S256 only (no `plain`). A challenge is base64url(SHA-256(verifier)), 43 characters. */
export const CHALLENGE = /^[A-Za-z0-9_-]{43}$/
export const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/

export function pkceMatches (verifier: string, challenge: string): boolean {
  if (!VERIFIER.test(verifier)) return false
  const a = Buffer.from(createHash('sha256').update(verifier, 'ascii').digest('base64url'))
  const b = Buffer.from(challenge)
  return a.length === b.length && timingSafeEqual(a, b)
}
