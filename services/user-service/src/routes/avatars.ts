import { delegatedScope } from './delegated-scope.js'
import { finished } from 'node:stream/promises'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { MultipartFile } from '@fastify/multipart'
import type { FastifyRequest } from 'fastify'
import { Type } from '@sinclair/typebox'
import {
  AvatarMissingError,
  AvatarNotFoundError,
  AvatarNotMultipartError,
  AvatarMalformedError,
  AvatarTooLargeError,
  AvatarTooManyFilesError,
  AvatarTypeError
} from '../errors.js'
import { sniffImage } from '../avatars/sniff.js'
import { isAvatarName, type AvatarStorage } from '../avatars/storage.js'
import type { ProfileStore } from '../profiles/store.js'
import { avatarUrl } from './user.js'
import { errorReplies } from './schemas.js'

export interface AvatarRoutesOptions {
  profiles: ProfileStore
  avatars: AvatarStorage
  /** AVATAR_MAX_BYTES. */
  maxBytes: number
}

/**
 * Room for the multipart framing around the file (boundaries, part headers, a
 * few small fields). A request declaring more than maxBytes + this is refused
 * before a byte of it is read.
 */
const MULTIPART_OVERHEAD = 16 * 1024

/** Names are random and never reused, so a served avatar never changes. */
const IMMUTABLE = 'public, max-age=31536000, immutable'

/**
 * `POST /user/avatar` (the seed's `/user/update/avatar`) and `GET /avatars/:name`.
 */
export const avatarRoutes: FastifyPluginAsyncTypebox<AvatarRoutesOptions> = async (app, { profiles, avatars, maxBytes }) => {
  const limits = { fileSize: maxBytes, files: 1, fields: 8, fieldSize: 1024, parts: 9, headerPairs: 64 }

  /**
   * Reads the whole multipart request and stores its one file. Returns the
   * stored name; on any failure nothing is left in the storage. The request is
   * always read to its end (or its abort) before this settles, so the reply
   * never races the upload.
   */
  async function receive (req: FastifyRequest): Promise<string> {
    let stored: string | null = null
    let failure: unknown = null
    try {
      for await (const part of req.parts({ limits })) {
        if (part.type !== 'file') continue
        if (failure !== null) {
          await drain(part)
        } else if (part.fieldname !== 'file') {
          failure = new AvatarMissingError(`send the image in the field "file" (got a file in "${part.fieldname}")`)
          await drain(part)
        } else {
          try {
            stored = await store(part)
          } catch (err) {
            failure = err
            await drain(part)
          }
        }
      }
    } catch (err) {
      // The parser's own error (limit reached, malformed or aborted body). An
      // earlier failure is the more precise answer, except that nothing can be
      // answered to an aborted request anyway.
      failure ??= err
    }
    if (failure === null && stored === null) failure = new AvatarMissingError('no file in the field "file"')
    if (failure !== null) {
      if (stored !== null) await avatars.remove(stored)
      throw toHttpError(failure)
    }
    return stored as string
  }

  async function store (part: MultipartFile): Promise<string> {
    const sniffed = sniffImage(part.file, {
      unsupported: (empty) => empty ? new AvatarMissingError('the file is empty') : new AvatarTypeError(),
      check: () => part.file.truncated ? new AvatarTooLargeError(maxBytes) : null
    })
    const ext = await sniffed.type
    return await avatars.save(sniffed.stream, ext)
  }

  function toHttpError (err: unknown): unknown {
    const code = (err as { code?: unknown } | null)?.code
    switch (code) {
      case 'FST_REQ_FILE_TOO_LARGE': return new AvatarTooLargeError(maxBytes)
      case 'FST_FILES_LIMIT': return new AvatarTooManyFilesError()
      case 'FST_INVALID_MULTIPART_CONTENT_TYPE': return new AvatarNotMultipartError()
    }
    if (err instanceof Error && (err as { statusCode?: unknown }).statusCode === undefined && (err as { syscall?: unknown }).syscall === undefined) {
      // busboy's parse errors ("Unexpected end of form", "Malformed part header")
      // and premature closes carry no status: the body was broken, not the server.
      return new AvatarMalformedError({ cause: err })
    }
    return err
  }

  app.post('/user/avatar', {
    onRequest: app.authenticate(),
    preHandler: delegatedScope('profile:write'),
    schema: {
      summary: 'Upload the caller\'s avatar: multipart/form-data, one PNG/JPEG/WebP/GIF in the field "file"',
      consumes: ['multipart/form-data'],
      response: {
        200: Type.Object({ avatar_url: Type.String({ description: '`/avatars/<name>`, relative to this service' }) }),
        ...errorReplies
      }
    }
  }, async (req, reply) => {
    const declared = Number(req.headers['content-length'])
    if (Number.isFinite(declared) && declared > maxBytes + MULTIPART_OVERHEAD) {
      // Refused unread: close the connection rather than read it all to keep it alive.
      reply.header('connection', 'close')
      throw new AvatarTooLargeError(maxBytes)
    }
    if (!req.isMultipart()) throw new AvatarNotMultipartError()

    const name = await receive(req)
    let before
    try {
      ({ before } = await profiles.upsert(req.auth.sub, { avatar: name }))
    } catch (err) {
      await avatars.remove(name).catch(() => {})
      throw err
    }
    // Only now that the profile points at the new file is the old one unused.
    if (before?.avatar != null && before.avatar !== name) {
      await avatars.remove(before.avatar).catch((err: unknown) => {
        req.log.warn({ err, avatar: before.avatar }, 'could not remove the previous avatar')
      })
    }
    return { avatar_url: avatarUrl(name) as string }
  })

  app.get('/avatars/:name', {
    schema: {
      summary: 'An avatar file (no token needed; names are unguessable)',
      params: Type.Object({ name: Type.String({ maxLength: 64 }) }),
      // 200 is the file itself, streamed (never serialized).
      response: { 200: Type.Unknown({ description: 'the image bytes' }), ...errorReplies }
    }
  }, async (req, reply) => {
    const { name } = req.params
    const file = isAvatarName(name) ? await avatars.open(name) : null
    if (file === null) throw new AvatarNotFoundError()
    return reply
      .header('content-type', file.contentType)
      .header('content-length', file.size)
      .header('cache-control', IMMUTABLE)
      .header('x-content-type-options', 'nosniff')
      .header('content-security-policy', "default-src 'none'")
      .send(file.stream)
  })
}

/** Reads a part to its end, discarding it, so the parser moves on to the next. */
async function drain (part: MultipartFile): Promise<void> {
  part.file.resume()
  await finished(part.file).catch(() => {})
}
