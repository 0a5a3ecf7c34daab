import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { replies } from '../schemas.js'
import { revokeSession } from '../sessions/revoke.js'

/** POST /auth/logout: ends the session of the presented access token. */
const logoutRoute: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/auth/logout', {
    onRequest: app.requireSession(),
    schema: { response: replies({ 204: Type.Null() }) }
  }, async (request, reply) => {
    await revokeSession(app.deps, request.session!.id, 'logout')
    return reply.code(204).send(null)
  })
}

export default logoutRoute
