import { createHmac, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto'
import type { HashSlots, Lane } from './hash-slots.js'

// OWASP Password Storage Cheat Sheet, scrypt: N=2^17,r=8,p=1 ≈ N=2^16,p=2 ≈ N=2^15,p=3
// ≈ N=2^14,p=5 ≈ N=2^13,p=10 (r=8), equivalent strength. We take N=2^14, r=8, p=5:
// 16 MiB per hash instead of 128 MiB (the p lanes run one after another in the same
// block), so memory under a flood of logins is 8 times smaller and the CPU cost per
// hash lower too; and not N=2^13, whose 8 MiB fits in the last-level cache of many
// servers and GPUs, which is what memory-hardness is meant to deny an attacker.
// Argon2id would be first choice, but Node 20 has no built-in argon2: no native dependency.
// Hashes made with other parameters (the earlier N=2^17, p=1) carry them and still verify.
const LN = 14
const R = 8
const P = 5
const KEYLEN = 32
// Enough for the earlier N=2^17, r=8 (128 MiB): old hashes must still verify.
const MAXMEM = 256 * 1024 * 1024
/** The largest N (as log2) a stored hash may ask for: refuse rather than allocate gigabytes. */
const MAX_LN = 17

function derive (password: string, salt: Buffer, ln: number, r: number, p: number): Promise<Buffer> {
  const opts: ScryptOptions = { N: 2 ** ln, r, p, maxmem: MAXMEM }
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFKC'), salt, KEYLEN, opts, (err, key) => { err === null ? resolve(key) : reject(err) })
  })
}

/**
 * The stored hash is HMAC-SHA256(pepper, scrypt output), the pepper a key derived from
 * the sealed MAC key (KeyRing.passwordPepper): whoever reads the store without the KEK
 * cannot test a single guess offline, however weak the password.
 */
function peppered (pepper: Buffer, key: Buffer): Buffer {
  return createHmac('sha256', pepper).update(key).digest()
}

/** PHC-style string: `$scrypt$ln=14,r=8,p=5$<salt>$<hash>` (base64url), the hash peppered. Runs in a hash slot. */
export async function hashPassword (slots: HashSlots, password: string, pepper: Buffer): Promise<string> {
  const salt = randomBytes(16)
  const key = await slots.run(async () => await derive(password, salt, LN, R, P))
  return `$scrypt$ln=${LN},r=${R},p=${P}$${salt.toString('base64url')}$${peppered(pepper, key).toString('base64url')}`
}

/**
 * 'legacy': the password matched a hash stored without the pepper by an earlier version;
 * the caller stores `pepperLegacyHash(stored)` in its place (no second scrypt needed).
 */
export type PasswordMatch = false | 'ok' | 'legacy'

/** A hash an earlier version stored unpeppered, peppered: the same string with its hash MACed. */
export function pepperLegacyHash (stored: string, pepper: Buffer): string {
  const i = stored.lastIndexOf('$')
  return stored.slice(0, i + 1) + peppered(pepper, Buffer.from(stored.slice(i + 1), 'base64url')).toString('base64url')
}

const PHC = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([\w-]+)\$([\w-]+)$/

/**
 * Constant-time check, in a hash slot, with the parameters the stored hash carries; false
 * for a malformed one. Both comparisons always run, so timing does not say which form is stored.
 */
export async function verifyPassword (slots: HashSlots, password: string, stored: string, pepper: Buffer, lane?: Lane): Promise<PasswordMatch> {
  const m = PHC.exec(stored)
  if (m === null || Number(m[1]) > MAX_LN) return false
  const expected = Buffer.from(m[5]!, 'base64url')
  const key = await slots.run(async () => await derive(password, Buffer.from(m[4]!, 'base64url'), Number(m[1]), Number(m[2]), Number(m[3])), lane)
  if (key.length !== expected.length) return false
  const ok = timingSafeEqual(peppered(pepper, key), expected)
  const legacy = timingSafeEqual(key, expected)
  return ok ? 'ok' : legacy ? 'legacy' : false
}

// A hash of nothing: a random salt and a random "hash" cost exactly one derive to check,
// like a real one, and match no password (2^-256), with no hash to compute first.
const DUMMY_PEPPER = randomBytes(32)
const DUMMY = `$scrypt$ln=${LN},r=${R},p=${P}$${randomBytes(16).toString('base64url')}$${randomBytes(KEYLEN).toString('base64url')}`

/**
 * Spends the same time and memory as a real check (same parameters, same hash slots)
 * when there is no account or no password, so neither response time nor a 503 tells
 * whether an account exists.
 */
export async function burnPasswordCheck (slots: HashSlots, password: string, lane?: Lane): Promise<false> {
  await verifyPassword(slots, password, DUMMY, DUMMY_PEPPER, lane)
  return false
}

/** Returns why a new password is refused, or undefined when it is acceptable. */
export function passwordWeakness (password: string): string | undefined {
  if ([...password].length < 8) return 'at least 8 characters'
  if (/^(.)\1*$/u.test(password)) return 'not one repeated character'
  return undefined
}
