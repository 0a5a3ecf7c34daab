import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto'

// OWASP Password Storage Cheat Sheet, scrypt: N=2^17, r=8, p=1 (128 MiB per hash).
// Argon2id would be first choice, but Node 20 has no built-in argon2 and scrypt at
// these parameters is on OWASP's list: no native dependency needed.
const LN = 17
const R = 8
const P = 1
const KEYLEN = 32
const MAXMEM = 256 * 1024 * 1024

function derive (password: string, salt: Buffer, ln: number, r: number, p: number): Promise<Buffer> {
  const opts: ScryptOptions = { N: 2 ** ln, r, p, maxmem: MAXMEM }
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFKC'), salt, KEYLEN, opts, (err, key) => { err === null ? resolve(key) : reject(err) })
  })
}

/** PHC-style string: `$scrypt$ln=17,r=8,p=1$<salt>$<hash>` (base64url). */
export async function hashPassword (password: string): Promise<string> {
  const salt = randomBytes(16)
  const key = await derive(password, salt, LN, R, P)
  return `$scrypt$ln=${LN},r=${R},p=${P}$${salt.toString('base64url')}$${key.toString('base64url')}`
}

const PHC = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([\w-]+)\$([\w-]+)$/

/** Constant-time check; false for a malformed stored hash. */
export async function verifyPassword (password: string, stored: string): Promise<boolean> {
  const m = PHC.exec(stored)
  if (m === null) return false
  const expected = Buffer.from(m[5]!, 'base64url')
  const key = await derive(password, Buffer.from(m[4]!, 'base64url'), Number(m[1]), Number(m[2]), Number(m[3]))
  return key.length === expected.length && timingSafeEqual(key, expected)
}

let dummy: Promise<string> | undefined
/**
 * Spends the same time as a real check when there is no account or no password,
 * so response time does not tell whether an account exists.
 */
export async function burnPasswordCheck (password: string): Promise<false> {
  dummy ??= hashPassword(randomBytes(16).toString('hex'))
  await verifyPassword(password, await dummy)
  return false
}

/** Returns why a new password is refused, or undefined when it is acceptable. */
export function passwordWeakness (password: string): string | undefined {
  if ([...password].length < 8) return 'at least 8 characters'
  if (/^(.)\1*$/u.test(password)) return 'not one repeated character'
  return undefined
}
