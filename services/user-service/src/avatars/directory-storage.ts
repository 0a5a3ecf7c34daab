import { randomBytes } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { ImageExt } from './image-type.js'
import { contentTypeOf, isAvatarName, type AvatarStorage } from './storage.js'

/** Uploads in progress are written under this prefix; it never matches an avatar name. */
const TEMP_PREFIX = '.upload-'
/** Temp files older than this at start belong to a crashed process and are removed. */
const STALE_TEMP_MS = 60 * 60 * 1000

/**
 * Avatars as files in one directory. Each upload is written to a temporary name
 * in the same directory and renamed into place once complete, so a reader never
 * sees a partial file and a failed upload leaves nothing behind.
 *
 * @example
 * const storage = await createDirectoryStorage('./.data/avatars')
 */
export async function createDirectoryStorage (dir: string): Promise<AvatarStorage> {
  await mkdir(dir, { recursive: true })
  await removeStaleTemps(dir)

  return {
    async save (source, ext: ImageExt) {
      const name = `${randomBytes(16).toString('base64url')}.${ext}`
      const temp = join(dir, `${TEMP_PREFIX}${randomBytes(8).toString('hex')}.tmp`)
      const input = source instanceof Readable ? source : Readable.from([source])
      try {
        await pipeline(input, createWriteStream(temp, { flags: 'wx', mode: 0o644 }))
        await rename(temp, join(dir, name))
      } catch (err) {
        await unlink(temp).catch(() => {})
        throw err
      }
      return name
    },

    async open (name) {
      if (!isAvatarName(name)) return null
      let handle
      try {
        handle = await open(join(dir, name), 'r')
      } catch (err) {
        if (isNotFound(err)) return null
        throw err
      }
      try {
        const { size } = await handle.stat()
        return { stream: handle.createReadStream(), size, contentType: contentTypeOf(name) }
      } catch (err) {
        await handle.close()
        throw err
      }
    },

    async remove (name) {
      if (!isAvatarName(name)) return
      await unlink(join(dir, name)).catch((err: unknown) => {
        if (!isNotFound(err)) throw err
      })
    }
  }
}

async function removeStaleTemps (dir: string): Promise<void> {
  const now = Date.now()
  for (const entry of await readdir(dir)) {
    if (!entry.startsWith(TEMP_PREFIX)) continue
    const path = join(dir, entry)
    const info = await stat(path).catch(() => null)
    if (info !== null && now - info.mtimeMs > STALE_TEMP_MS) await unlink(path).catch(() => {})
  }
}

function isNotFound (err: unknown): boolean {
  return (err as NodeJS.ErrnoException | null)?.code === 'ENOENT'
}
