import type { ErrorCode } from '../errors.js'

/**
 * The codes of this service's registry (errors.ts) each route answers, besides the
 * verifier's (added for every route behind app.authenticate()) and the validation
 * code (added for every route with a request schema): openapi/plugin.ts puts them
 * in the document as x-error-codes. Keyed `METHOD /path`; test/openapi/document.test.ts
 * fails when a registered route has no entry or an entry names no route.
 */
export const routeErrors: Readonly<Record<string, readonly ErrorCode[]>> = {
  'GET /healthz': [],
  'GET /readyz': ['SHUTTING_DOWN'],
  'GET /user/mine': ['STORE_UNAVAILABLE'],
  'PUT /user/username': ['INVALID_USERNAME', 'STORE_UNAVAILABLE'],
  'GET /user/access/token': [],
  'POST /user/avatar': ['AVATAR_MISSING', 'AVATAR_TOO_MANY_FILES', 'AVATAR_MALFORMED', 'AVATAR_TYPE', 'AVATAR_NOT_MULTIPART', 'AVATAR_TOO_LARGE', 'STORE_UNAVAILABLE'],
  'GET /avatars/{name}': ['AVATAR_NOT_FOUND']
}
