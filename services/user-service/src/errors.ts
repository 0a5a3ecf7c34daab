import createError from '@fastify/error'

/**
 * Every error code this service answers with, declared together (the verifier's
 * TOKEN_* codes and Fastify's FST_* codes come on top). The README's table of
 * codes is kept in sync with this list by `test/errors.test.ts`.
 *
 * Replies have Fastify's shape: `{ statusCode, code, error, message }`.
 */

/** PUT /user/username: the name is not 2-32 characters after trimming, or holds control characters. */
export const InvalidUsernameError = createError('INVALID_USERNAME', '%s', 400)
/** POST /user/avatar: the request has no part named `file`, or it is empty. */
export const AvatarMissingError = createError('AVATAR_MISSING', '%s', 400)
/** POST /user/avatar: more than one file in one request. */
export const AvatarTooManyFilesError = createError('AVATAR_TOO_MANY_FILES', 'send exactly one file, in the field "file"', 400)
/** POST /user/avatar: the multipart body is malformed or ended early. */
export const AvatarMalformedError = createError('AVATAR_MALFORMED', 'the multipart body is malformed or incomplete', 400)
/** POST /user/avatar: the bytes are not PNG, JPEG, WebP or GIF. */
export const AvatarTypeError = createError('AVATAR_TYPE', 'the file is not a PNG, JPEG, WebP or GIF image', 415)
/** POST /user/avatar: the request is not multipart/form-data. */
export const AvatarNotMultipartError = createError('AVATAR_NOT_MULTIPART', 'send the avatar as multipart/form-data with a field "file"', 415)
/** POST /user/avatar: the file is larger than AVATAR_MAX_BYTES. */
export const AvatarTooLargeError = createError('AVATAR_TOO_LARGE', 'the file is larger than %s bytes', 413)
/** GET /avatars/:name: no such avatar (or a name this service never generates). */
export const AvatarNotFoundError = createError('AVATAR_NOT_FOUND', 'no such avatar', 404)
/** GET /metrics with METRICS_TOKEN set: the Bearer token is missing or wrong. */
export const MetricsUnauthorizedError = createError('METRICS_UNAUTHORIZED', 'GET /metrics wants Authorization: Bearer <METRICS_TOKEN>', 401)
/** Any path no route serves; the body does not echo it. */
export const NotFoundError = createError('NOT_FOUND', 'Not found', 404)
/** GET /readyz after SIGTERM: this replica is draining. */
export const ShuttingDownError = createError('SHUTTING_DOWN', 'This replica is shutting down: use another one', 503)
/** The profile store did not answer in time (Redis down). Safe to retry. */
export const StoreUnavailableError = createError('STORE_UNAVAILABLE', 'the profile store is unavailable, try again later', 503)

/** Any other server-side failure; the details are logged, not sent. */
export const INTERNAL_ERROR = 'INTERNAL_ERROR'

/** The codes above, for the docs test. */
export const ERROR_CODES = [
  'INVALID_USERNAME',
  'AVATAR_MISSING',
  'AVATAR_TOO_MANY_FILES',
  'AVATAR_MALFORMED',
  'AVATAR_TYPE',
  'AVATAR_NOT_MULTIPART',
  'AVATAR_TOO_LARGE',
  'AVATAR_NOT_FOUND',
  'STORE_UNAVAILABLE',
  'METRICS_UNAUTHORIZED',
  'NOT_FOUND',
  'SHUTTING_DOWN',
  'INTERNAL_ERROR'
] as const

export type ErrorCode = typeof ERROR_CODES[number]
