import { mkdir, open, readFile, rename, chmod } from 'node:fs/promises'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { isKeySet, type KeySet } from './key-set.js'
import type { KeyStore } from './key-store.js'

export const KEYS_FILE = 'signing-keys.json'

/**
 * Keys as one JSON file, mode 0600, in a 0700 directory. Writes go to a temporary file
 * that is renamed into place, so a crash never leaves half a key set.
 */
export function createFileKeyStore (dataDir: string): KeyStore {
  const file = join(dataDir, KEYS_FILE)

  async function load (): Promise<KeySet | null> {
    let text: string
    try {
      text = await readFile(file, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
      throw err
    }
    const parsed: unknown = JSON.parse(text)
    if (!isKeySet(parsed)) throw new Error(`${file} is not a key set written by authcenter`)
    return parsed
  }

  async function write (set: KeySet, exclusive: boolean): Promise<boolean> {
    await mkdir(dataDir, { recursive: true, mode: 0o700 })
    const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`
    const fh = await open(tmp, 'wx', 0o600)
    try {
      await fh.writeFile(JSON.stringify(set, null, 2))
      await fh.sync()
    } finally {
      await fh.close()
    }
    await chmod(tmp, 0o600)
    if (exclusive && (await load()) !== null) return false
    await rename(tmp, file)
    return true
  }

  return {
    kind: 'file',
    load,
    async init (set) {
      const existing = await load()
      if (existing !== null) return existing
      await write(set, true)
      return (await load()) ?? set
    },
    async replace (expectedRevision, next) {
      const existing = await load()
      if (existing !== null && existing.revision !== expectedRevision) return false
      return write(next, false)
    }
  }
}
