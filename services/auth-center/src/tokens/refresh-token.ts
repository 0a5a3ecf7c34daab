import { createHmac, timingSafeEqual } from 'node:crypto'
import { randomId } from './random.js'

/**
 * Refresh tokens are opaque strings `<session id>.<generation>.<mac>` where mac is
 * HMAC-SHA256(server key, session id, generation, per-session nonce): 256 bits that
 * only the auth center can produce. The store keeps no token at all, only the
 * session's generation counter and nonce, so neither a store dump nor the key alone
 * yields a usable token. Because the MAC is recomputable, the grace window can hand
 * back the current successor without keeping a copy of it.
 */
// One spelling per token: the generation without leading zeros, and the last base64url
// character of the id (4 spare bits) and of the MAC (2 spare bits) with those bits
// zero, so `sid.000.mac`, or a MAC whose last character differs only in unused bits,
// is not the same token under another name.
const FORMAT = /^([A-Za-z0-9_-]{21}[AQgw])\.(0|[1-9]\d{0,8})\.([A-Za-z0-9_-]{42}[AEIMQUYcgkosw048])$/

export interface ParsedRefreshToken {
  sessionId: string
  gen: number
  mac: Buffer
}

export function newSessionId (): string {
  return randomId()
}

export function newRefreshNonce (): string {
  return randomId()
}

function mac (key: Buffer, sessionId: string, gen: number, nonce: string): Buffer {
  return createHmac('sha256', key).update(`rt1|${sessionId}|${gen}|${nonce}`).digest()
}

export function formatRefreshToken (key: Buffer, sessionId: string, gen: number, nonce: string): string {
  return `${sessionId}.${gen}.${mac(key, sessionId, gen, nonce).toString('base64url')}`
}

export function parseRefreshToken (token: string): ParsedRefreshToken | undefined {
  const m = FORMAT.exec(token)
  if (m === null) return undefined
  return { sessionId: m[1]!, gen: Number(m[2]), mac: Buffer.from(m[3]!, 'base64url') }
}

/** Constant-time check that the token was minted for this session's nonce. */
export function refreshTokenMatches (key: Buffer, parsed: ParsedRefreshToken, nonce: string): boolean {
  const expected = mac(key, parsed.sessionId, parsed.gen, nonce)
  return parsed.mac.length === expected.length && timingSafeEqual(parsed.mac, expected)
}
