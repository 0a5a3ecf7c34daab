import { createHash, randomBytes } from 'node:crypto'
import { mkdir, open, readFile } from 'node:fs/promises'
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

/** The file a development KEK is kept in when AUTH_KEK is unset (outside production with a shared store). */
export const DEV_KEK_FILE = 'dev-kek'

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

/** AUTH_KEK_PREVIOUS: comma-separated KEKs, in any order. */
export function parseKeks (name: string, value: string | undefined): Kek[] {
  if (value === undefined) return []
  return value.split(',').map((v) => v.trim()).filter((v) => v !== '').map((v) => parseKek(name, v))
}

export function kekIdOf (key: Buffer): string {
  return 'k' + createHash('sha256').update('authcenter-kek-id|').update(key).digest('base64url').slice(0, 11)
}

/** A new KEK in the AUTH_KEK format. */
export function generateKek (): string {
  return randomBytes(32).toString('base64url')
}

/**
 * Without AUTH_KEK (development), a KEK generated once into the data directory, mode
 * 0600. Secrets stay sealed in the store, so a Redis dump alone still reveals nothing,
 * but whoever reads the data directory reads the KEK too: for development only.
 */
export async function devKek (dataDir: string): Promise<{ kek: Kek, file: string, created: boolean }> {
  const file = join(dataDir, DEV_KEK_FILE)
  try {
    return { kek: parseKek(file, (await readFile(file, 'utf8')).trim()), file, created: false }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  const value = generateKek()
  try {
    const fh = await open(file, 'wx', 0o600)
    try { await fh.writeFile(value + '\n'); await fh.sync() } finally { await fh.close() }
  } catch (err) {
    // Another process created it first: use theirs.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return { ...(await devKek(dataDir)), created: false }
    throw err
  }
  return { kek: parseKek(file, value), file, created: true }
}
