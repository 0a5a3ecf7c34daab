import { mkdir, open, readFile, rename, chmod } from 'node:fs/promises'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import type { KeySet } from './key-set.js'
import type { KeyStore } from './key-store.js'
import type { KeySetCodec, SealedWith } from './sealed-key-set.js'

export const KEYS_FILE = 'signing-keys.json'

/**
 * Keys as one JSON file, sealed under the KEK, mode 0600, in a 0700 directory. Writes
 * go to a temporary file that is renamed into place, so a crash never leaves half a
 * key set.
 */
export function createFileKeyStore (dataDir: string, codec: KeySetCodec): KeyStore {
  const file = join(dataDir, KEYS_FILE)
  const where = file

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

  async function replace (expectedRevision: number, next: KeySet): Promise<boolean> {
    const existing = await read()
    if (existing !== null && existing.set.revision !== expectedRevision) return false
    return write(next, false)
  }

  return {
    kind: 'file',
    where,
    async load () {
      const found = await read()
      if (found === null) return null
      // Written in clear by a version before sealing: seal it now rather than lose it.
      if (found.sealedWith === 'clear') await replace(found.set.revision, found.set)
      return found.set
    },
    async init (set) {
      const existing = await this.load()
      if (existing !== null) return existing
      await write(set, true)
      return (await this.load()) ?? set
    },
    replace,
    async copy (set) { await write(set, false) },
    async reseal () {
      // Retried when a rotation by another process lands in between (it changed the revision).
      for (let attempt = 0; attempt < 5; attempt++) {
        const found = await read()
        if (found === null) return null
        if (found.sealedWith === codec.keks.current.id || await replace(found.set.revision, found.set)) return found.sealedWith
      }
      throw new Error(`${where}: re-sealing kept conflicting with another writer`)
    }
  }
}
