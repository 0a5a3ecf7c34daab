import { Transform, finished, type Readable, type TransformCallback } from 'node:stream'
import { detectImageType, SNIFF_BYTES, type ImageExt } from './image-type.js'

export interface Sniffed {
  /** The bytes of the source, unchanged; errors when the source errors or was cut at the size limit. */
  readonly stream: Transform
  /** The type, once the first bytes arrived; rejects when they are not an image of ours, or the source failed first. */
  readonly type: Promise<ImageExt>
}

export interface SniffOptions {
  /** Called when the stream ends; an error it returns fails the stream (used for the size limit). */
  check?: () => Error | null
  /** The error for bytes that are not an image of ours (`empty` when there were none). */
  unsupported: (empty: boolean) => Error
}

/**
 * Passes a file stream through while judging its type by the first bytes, so
 * the caller can pick the extension before it stores anything. The source is
 * piped, so after a failure the caller still owns it (and should drain it).
 */
export function sniffImage (source: Readable, opts: SniffOptions): Sniffed {
  let resolveType!: (ext: ImageExt) => void
  let rejectType!: (err: Error) => void
  const type = new Promise<ImageExt>((resolve, reject) => { resolveType = resolve; rejectType = reject })
  type.catch(() => {}) // the caller awaits it; never an unhandled rejection
  let decided = false
  let head: Buffer[] = []
  let headLength = 0

  const decide = (): Error | null => {
    decided = true
    const bytes = Buffer.concat(head)
    const ext = detectImageType(bytes)
    if (ext === null) {
      const err = opts.unsupported(bytes.length === 0)
      rejectType(err)
      return err
    }
    resolveType(ext)
    return null
  }

  const stream = new Transform({
    transform (chunk: Buffer, _encoding, callback: TransformCallback) {
      if (decided) return callback(null, chunk)
      head.push(chunk)
      headLength += chunk.length
      if (headLength < SNIFF_BYTES) return callback()
      const err = decide()
      const bytes = Buffer.concat(head)
      head = []
      callback(err, err === null ? bytes : undefined)
    },
    flush (callback: TransformCallback) {
      if (!decided) {
        const err = decide()
        if (err !== null) return callback(err)
        if (headLength > 0) this.push(Buffer.concat(head))
        head = []
      }
      callback(opts.check?.() ?? null)
    },
    destroy (err, callback) {
      if (!decided) {
        decided = true
        rejectType(err ?? new Error('the upload ended before its type was known'))
      }
      callback(err)
    }
  })
  // Until a consumer attaches, an error must not be unhandled.
  stream.on('error', () => {})
  source.pipe(stream)
  // pipe() forwards neither errors nor a premature close: forward both.
  finished(source, (err) => { if (err !== undefined && err !== null) stream.destroy(err) })
  return { stream, type }
}
