import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { requestFacts } from '../auth/request-facts.js'
import { TokenReply, replies } from '../schemas.js'
import { refreshSession } from '../sessions/refresh.js'

const Body = Type.Object({ refresh_token: Type.String({ minLength: 1, maxLength: 512 }) }, { additionalProperties: false })

/** POST /auth/refresh: rotation with reuse detection (sessions/refresh.ts). */
const refreshRoute: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/auth/refresh', {
    schema: { body: Body, response: replies({ 200: TokenReply }) }
  }, async (request, reply) => {
    reply.header('cache-control', 'no-store')
    return refreshSession(app.deps, request.body.refresh_token, requestFacts(request))
  })
}

export default refreshRoute
