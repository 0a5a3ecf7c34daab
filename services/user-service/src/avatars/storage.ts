import type { Readable } from 'node:stream'
import { IMAGE_TYPES, type ImageExt } from './image-type.js'

/**
 * The names this service generates for avatars: 128 random bits in base64url,
 * then the extension of the detected type. Anything else is not ours, which is
 * also what keeps `GET /avatars/:name` away from path traversal.
 */
export const AVATAR_NAME = /^[A-Za-z0-9_-]{22}\.(png|jpg|webp|gif)$/

export function isAvatarName (name: string): boolean {
  return AVATAR_NAME.test(name)
}

export function contentTypeOf (name: string): string {
  const ext = name.slice(name.lastIndexOf('.') + 1) as ImageExt
  return IMAGE_TYPES[ext] ?? 'application/octet-stream'
}

export interface StoredAvatar {
  readonly stream: Readable
  readonly size: number
  readonly contentType: string
}

/**
 * Where avatar files live. The directory driver is the only one today; an
 * object store (S3, OSS as in the seed) can implement the same three calls.
 *
 * @example
 * const name = await storage.save(stream, 'png') // 'Jb3…Q.png', visible only once complete
 * const file = await storage.open(name)          // null when absent
 * await storage.remove(name)                      // no error when absent
 */
export interface AvatarStorage {
  /**
   * Stores the bytes under a new generated name and returns the name. The file
   * becomes visible only when the whole source was read without error; if the
   * source errors (aborted, too large), nothing is left behind and the error
   * is rethrown.
   */
  save (source: Readable | Uint8Array, ext: ImageExt): Promise<string>
  /** Opens a stored avatar, or null when there is none by that name. */
  open (name: string): Promise<StoredAvatar | null>
  /** Removes a stored avatar; removing an absent one is not an error. */
  remove (name: string): Promise<void>
}
