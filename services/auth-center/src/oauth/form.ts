import type { FastifyInstance } from 'fastify'
import { OAuthError } from './errors.js'

export type Params = Record<string, string>

/**
 * `application/x-www-form-urlencoded` bodies (token, introspection, revocation
 * endpoints and the login and consent forms), parsed with URLSearchParams into a flat
 * object. A parameter sent twice is refused (RFC 6749 §3.1: "MUST NOT be included
 * more than once"). Registered inside the OAuth plugins only, so the first-party
 * JSON routes keep refusing forms with 415.
 */
export function acceptForms (app: FastifyInstance): void {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 16 * 1024 }, (_request, body, done) => {
    try {
      done(null, toParams(new URLSearchParams(body as string)))
    } catch (err) {
      done(err as Error, undefined)
    }
  })
}

/** A flat object of parameters; throws invalid_request on a repeated one. Empty values count as absent. */
export function toParams (search: URLSearchParams): Params {
  const out: Params = Object.create(null) as Params
  for (const [k, v] of search) {
    if (k in out) throw new OAuthError('invalid_request', `parameter "${k}" is repeated`)
    if (v !== '') out[k] = v
  }
  return out
}

/** Query strings as Fastify parsed them (repeats become arrays): the same rules. */
export function queryParams (query: Record<string, string | string[] | undefined>): Params {
  const out: Params = Object.create(null) as Params
  for (const [k, v] of Object.entries(query)) {
    if (Array.isArray(v)) throw new OAuthError('invalid_request', `parameter "${k}" is repeated`)
    if (v !== undefined && v !== '') out[k] = v
  }
  return out
}
