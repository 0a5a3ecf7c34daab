import type { FastifyError, FastifyInstance } from 'fastify'
import { RetryAfter } from './auth/rate-limit.js'
import { BodyTooLargeError, StoreUnavailableError } from './errors.js'

const STORE_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'NR_CLOSED'])
// 5xx answers that are load shedding, not failures: logging each at error level would
// flood the log under the very attack they shed (the SMS budget pages once, itself).
const EXPECTED_REFUSALS = new Set(['SMS_BUDGET_EXHAUSTED', 'PASSWORD_CHECK_BUSY'])

/**
 * One place that turns whatever was thrown into the JSON error shape of DESIGN.md §5:
 * coded errors pass through, store outages become 503 STORE_UNAVAILABLE, unknown
 * failures become a 500 that reveals nothing.
 */
export function installErrorHandler (app: FastifyInstance): void {
  app.setErrorHandler((raw: FastifyError, request, reply) => {
    let err: FastifyError = raw
    // A refusal that says when to come back, wherever it was thrown from.
    if (raw instanceof RetryAfter) {
      reply.header('retry-after', String(raw.seconds))
      err = raw.cause as FastifyError
    }
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') err = new BodyTooLargeError()
    else if (isStoreFailure(err)) {
      const wrapped = new StoreUnavailableError()
      wrapped.cause = err
      err = wrapped
    }
    const status = err.statusCode ?? 500

    if (err.validation !== undefined) {
      return reply.code(400).send({ statusCode: 400, code: 'FST_ERR_VALIDATION', error: 'Bad Request', message: err.message })
    }
    if (status >= 500 && !EXPECTED_REFUSALS.has(err.code)) {
      request.log.error({ err: raw }, 'request failed')
    }
    if (status === 500 && err.code === undefined) {
      return reply.code(500).send({ statusCode: 500, code: 'INTERNAL', error: 'Internal Server Error', message: 'Something went wrong' })
    }
    const nonce = (err as { dpopNonce?: string }).dpopNonce
    if (nonce !== undefined) reply.header('dpop-nonce', nonce)
    if (status === 401 && !reply.hasHeader('www-authenticate') && err.code === 'SESSION_REVOKED') {
      reply.header('www-authenticate', `Bearer error="invalid_token", error_description="${err.message}"`)
    }
    return reply.code(status).send({
      statusCode: status,
      code: err.code ?? 'ERROR',
      error: httpReason(status),
      message: err.message
    })
  })
}

export function isStoreFailure (err: Error & { code?: string, name?: string }): boolean {
  if (err.code === 'STORE_UNAVAILABLE') return true
  if (err.code !== undefined && STORE_ERRORS.has(err.code)) return true
  // ioredis: MaxRetriesPerRequestError, "Connection is closed.", command timeouts.
  return err.name === 'MaxRetriesPerRequestError' || /Connection is closed|Command timed out|Stream isn't writeable/.test(err.message)
}

function httpReason (status: number): string {
  return ({
    400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict',
    413: 'Payload Too Large', 415: 'Unsupported Media Type', 429: 'Too Many Requests',
    500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable'
  } as Record<number, string>)[status] ?? 'Error'
}
