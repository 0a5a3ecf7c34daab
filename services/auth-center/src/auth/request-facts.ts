import type { FastifyRequest } from 'fastify'

/** What domain code may know of an HTTP request, without depending on Fastify. */
export interface RequestFacts {
  ip: string
  userAgent?: string
  /** Raw `DPoP` header value(s). */
  dpop?: string | string[]
  /** Raw `Cookie` header. */
  cookie?: string
  /** The endpoint's path, for the DPoP `htu` (default `/auth/refresh` for a refresh). */
  path?: string
}

export function requestFacts (request: FastifyRequest): RequestFacts {
  const facts: RequestFacts = { ip: request.clientIp }
  const ua = request.headers['user-agent']
  if (ua !== undefined) facts.userAgent = ua
  const dpop = request.headers.dpop
  if (dpop !== undefined) facts.dpop = dpop
  if (request.headers.cookie !== undefined) facts.cookie = request.headers.cookie
  return facts
}
