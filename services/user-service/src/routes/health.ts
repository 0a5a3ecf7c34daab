import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { ShuttingDownError } from '../errors.js'

const Ok = Type.Object({ status: Type.Literal('ok') })
const Refused = Type.Object({ statusCode: Type.Integer(), code: Type.String(), error: Type.String(), message: Type.String() })

/** Liveness, and readiness (503 SHUTTING_DOWN once a shutdown began: packages/service-kit/src/shutdown.ts). No token needed. */
export const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/healthz', {
    schema: { summary: 'Liveness: the process is up and answering', response: { 200: Ok } }
  }, async () => ({ status: 'ok' as const }))
  app.get('/readyz', {
    schema: { summary: 'Readiness: 503 SHUTTING_DOWN while the replica drains', response: { 200: Ok, 503: Refused } }
  }, async (_request, reply) => {
    // Sent as is: the error handler turns a 5xx other than STORE_UNAVAILABLE into INTERNAL_ERROR.
    if (app.lifecycle.draining) {
      const err = new ShuttingDownError()
      return await reply.code(503).send({ statusCode: 503, code: err.code, error: 'Service Unavailable', message: err.message })
    }
    return { status: 'ok' as const }
  })
}
