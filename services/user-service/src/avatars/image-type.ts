/** The image types an avatar may be, with the extension and Content-Type we use for each. */
export const IMAGE_TYPES = {
  png: 'image/png',
  jpg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif'
} as const

export type ImageExt = keyof typeof IMAGE_TYPES

/** How many leading bytes `detectImageType` needs to decide. */
export const SNIFF_BYTES = 12

/**
 * Judges the type by the file's magic bytes, never by its name or declared type.
 * Returns the extension to store it under, or null when it is none of ours.
 *
 * @example
 * detectImageType(Buffer.from('GIF89a......')) // 'gif'
 */
export function detectImageType (head: Uint8Array): ImageExt | null {
  const b = Buffer.from(head.buffer, head.byteOffset, head.byteLength)
  // PNG: \x89 P N G \r \n \x1a \n
  if (b.length >= 8 && b.subarray(0, 8).equals(PNG)) return 'png'
  // JPEG: SOI marker then the start of the next marker
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpg'
  // GIF: "GIF87a" or "GIF89a"
  if (b.length >= 6 && (b.toString('latin1', 0, 6) === 'GIF87a' || b.toString('latin1', 0, 6) === 'GIF89a')) return 'gif'
  // WebP: "RIFF" <size> "WEBP"
  if (b.length >= 12 && b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP') return 'webp'
  return null
}

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
