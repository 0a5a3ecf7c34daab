import { mkdir, open, readFile, rename, chmod } from 'node:fs/promises'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import type { KeySet } from './key-set.js'
import { keyStoreOver, type KeyStore } from './key-store.js'
import type { KeySetCodec, SealedWith } from './sealed-key-set.js'

export const KEYS_FILE = 'signing-keys.json'

/**
 * Keys as one JSON file, sealed under the KEK, mode 0600, in a 0700 directory. Writes
 * go to a temporary file that is renamed into place, so a crash never leaves half a
 * key set.
 */
export function createFileKeyStore (dataDir: string, codec: KeySetCodec): KeyStore {
  const file = join(dataDir, KEYS_FILE)

  async function read (): Promise<{ set: KeySet, sealedWith: SealedWith } | null> {
    let text: string
    try {
      text = await readFile(file, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
      throw err
    }
    return codec.decode(text, file)
  }

  async function write (set: KeySet, exclusive: boolean): Promise<boolean> {
    await mkdir(dataDir, { recursive: true, mode: 0o700 })
    const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`
    const fh = await open(tmp, 'wx', 0o600)
    try {
      await fh.writeFile(codec.encode(set))
      await fh.sync()
    } finally {
      await fh.close()
    }
    await chmod(tmp, 0o600)
    if (exclusive && (await read()) !== null) return false
    await rename(tmp, file)
    return true
  }

  return keyStoreOver({
    kind: 'file',
    where: file,
    codec,
    read,
    // Looked for first, so a start with keys already on disk writes no temporary file.
    async insertIfAbsent (set) {
      if ((await read()) === null) await write(set, true)
    },
    async replace (expectedRevision, next) {
      const existing = await read()
      if (existing !== null && existing.set.revision !== expectedRevision) return false
      return write(next, false)
    },
    async write (set) { await write(set, false) }
  })
}
