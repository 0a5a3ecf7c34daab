import fp from 'fastify-plugin'
import type { CodedErrorConstructor } from './errors.js'

export interface SecurityHeadersOptions {
  /** Send Strict-Transport-Security (the service's public URL is https; browsers ignore it over http). */
  hsts: boolean
  /** The service's NOT_FOUND error (404): its code and message make the body. */
  notFound: CodedErrorConstructor
}

/** One year: the usual HSTS lifetime; no includeSubDomains, other hosts of the domain are not ours to pin. */
const HSTS = 'max-age=31536000'

/**
 * Headers on every answer and a 404 that says nothing about the request. `nosniff`
 * stops a browser from reading a JSON answer (which may echo input) as HTML or
 * script; HSTS keeps browsers on https once they have seen the service there. Set in
 * onRequest (synchronous) so the hot paths pay no extra async hook.
 */
export const securityHeaders = fp<SecurityHeadersOptions>(async (app, opts) => {
  app.addHook('onRequest', (_request, reply, done) => {
    reply.header('x-content-type-options', 'nosniff')
    if (opts.hsts) reply.header('strict-transport-security', HSTS)
    done()
  })
  // Fastify's default 404 echoes the method and path ("Route GET:/… not found").
  app.setNotFoundHandler((_request, reply) => {
    const err = new opts.notFound()
    return reply.code(404).send({ statusCode: 404, code: err.code, error: 'Not Found', message: err.message })
  })
}, { fastify: '5.x', name: 'security-headers' })
