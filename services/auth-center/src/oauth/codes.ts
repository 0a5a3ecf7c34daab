import { createHash, randomBytes } from 'node:crypto'

/** Authorization codes live 60 s at most (RFC 6749 §4.1.2 recommends 10 minutes at most). */
export const CODE_TTL_MS = 60_000
/** How long a taken code's "used" marker is kept, so a replay can revoke the grant it made. */
export const USED_CODE_TTL_MS = 60 * 60_000

/** A new code (256 bits) and the id the store keeps it under: a hash, so a store dump has no usable code. */
export function newCode (): { code: string, codeId: string } {
  const code = randomBytes(32).toString('base64url')
  return { code, codeId: codeId(code) }
}

export function codeId (code: string): string {
  return createHash('sha256').update(`code1|${code}`).digest('base64url')
}
