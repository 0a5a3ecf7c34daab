import { createHash, randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'

/**
 * A key-encryption key: 32 bytes that seal every secret the auth center stores
 * (seal.ts). `id` is written beside each sealed blob, so a blob says which KEK
 * opens it and a KEK can be rotated while the previous one still reads.
 */
export interface Kek {
  readonly id: string
  readonly key: Buffer
}

/** The KEK that seals (current) and the ones still accepted for reading (previous, during a rotation). */
export interface KekRing {
  readonly current: Kek
  readonly previous: readonly Kek[]
}

/** A bad AUTH_KEK / AUTH_KEK_PREVIOUS, or stored keys that no configured KEK opens: one line naming the variable. */
export class KekError extends Error {
  override name = 'KekError'
}

const ID = /^[A-Za-z0-9_.-]{1,32}$/
// 32 bytes in base64url or base64 (43 characters, with or without the '=' padding).
const SECRET = /^[A-Za-z0-9_+/-]{43}=?$/

/**
 * Parses one KEK: `<secret>` or `<id>:<secret>`, the secret 32 random bytes in
 * base64url (`openssl rand -base64 32` works too). Without an id, the id is derived
 * from the key (a hash of 256 random bits tells nothing about them). The message
 * never repeats the value: it is a secret.
 */
export function parseKek (name: string, value: string): Kek {
  const i = value.indexOf(':')
  const id = i === -1 ? undefined : value.slice(0, i)
  const secret = i === -1 ? value : value.slice(i + 1)
  if (id !== undefined && !ID.test(id)) throw new KekError(`${name}: the key id before ':' must be 1-32 of A-Z a-z 0-9 _ . -`)
  if (!SECRET.test(secret)) throw new KekError(`${name}: expected 32 random bytes in base64url, optionally "<id>:" before them (generate one with: pnpm --filter @authcenter/auth-center kek:generate)`)
  const key = Buffer.from(secret, 'base64url')
  if (key.length !== 32) throw new KekError(`${name}: the secret must decode to 32 bytes`)
  return kekOf(id ?? kekIdOf(key), key)
}

/** The key is not enumerable: a config object logged or serialised by mistake shows only the id. */
function kekOf (id: string, key: Buffer): Kek {
  return Object.freeze(Object.defineProperty({ id }, 'key', { value: key, enumerable: false })) as Kek
}

/** AUTH_KEK_PREVIOUS: comma-separated KEKs, in any order; `dev` is the development KEK (moving off it). */
export function parseKeks (name: string, value: string | undefined): Kek[] {
  if (value === undefined) return []
  return value.split(',').map((v) => v.trim()).filter((v) => v !== '').map((v) => v === 'dev' ? DEV_KEK : parseKek(name, v))
}

export function kekIdOf (key: Buffer): string {
  return 'k' + createHash('sha256').update('authcenter-kek-id|').update(key).digest('base64url').slice(0, 11)
}

/** A new KEK in the AUTH_KEK format. */
export function generateKek (): string {
  return randomBytes(32).toString('base64url')
}

/**
 * The KEK without AUTH_KEK (development only; refused in production with a shared
 * store): fixed and published here, so it protects nothing, and says so in a warning at
 * every start. Every replica and every test on one Redis agrees on it without
 * configuration, the stored format is the same as with a real KEK, and moving to a real
 * one is `AUTH_KEK=<new> AUTH_KEK_PREVIOUS=dev kek:rotate`.
 */
export const DEV_KEK: Kek = kekOf('dev', createHash('sha256').update('authcenter development KEK: public, protects nothing').digest())

/** A `dev-kek` file an earlier development version generated into the data directory: still read, never written. */
export const LEGACY_DEV_KEK_FILE = 'dev-kek'

export async function legacyDevKek (dataDir: string): Promise<Kek | undefined> {
  try {
    return parseKek(join(dataDir, LEGACY_DEV_KEK_FILE), (await readFile(join(dataDir, LEGACY_DEV_KEK_FILE), 'utf8')).trim())
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}
