import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { SessionNotFoundError } from '../errors.js'
import { replies } from '../schemas.js'
import { revokeSession, revokeUserSessions } from '../sessions/revoke.js'
import { OwnSessionView, SessionId, viewSession } from '../sessions/view.js'
import { isLive } from '../store/rules.js'

const ListReply = Type.Object({ sessions: Type.Array(OwnSessionView) })
const RevokedReply = Type.Object({ revoked: Type.Integer({ minimum: 0 }) })

/**
 * Sessions & devices, for the user of the presented access token:
 * - GET /auth/sessions: the live sessions (every client), oldest first, `current` marked;
 * - DELETE /auth/sessions/:id: kick one device (404 SESSION_NOT_FOUND unless it is a
 *   live session of this user, so nobody learns about other users' sessions);
 * - DELETE /auth/sessions?others=true: log out everywhere else (one user-level
 *   revocation that spares the current session); without `others=true` it is 400.
 * Every revocation goes through sessions/revoke.ts.
 */
const sessionsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/auth/sessions', {
    onRequest: app.requireSession(),
    schema: { response: replies({ 200: ListReply }) }
  }, async (request, reply) => {
    const current = request.session!
    const sessions = await app.deps.store.listUserSessions(current.userId, app.deps.now())
    reply.header('cache-control', 'no-store')
    return { sessions: sessions.map((s) => ({ ...viewSession(s), current: s.id === current.id })) }
  })

  app.delete('/auth/sessions/:id', {
    onRequest: app.requireSession(),
    schema: { params: Type.Object({ id: SessionId }), response: replies({ 204: Type.Null() }) }
  }, async (request, reply) => {
    const deps = app.deps
    const target = await deps.store.getSession(request.params.id)
    if (target === null || target.userId !== request.session!.userId || !isLive(target, deps.now())) {
      throw new SessionNotFoundError()
    }
    await revokeSession(deps, target.id, target.id === request.session!.id ? 'logout' : 'kicked')
    return reply.code(204).send(null)
  })

  app.delete('/auth/sessions', {
    onRequest: app.requireSession(),
    schema: {
      // Only "everywhere else" exists: ending the current session is POST /auth/logout.
      querystring: Type.Object({ others: Type.Literal('true', { description: 'must be "true"' }) }, { additionalProperties: false }),
      response: replies({ 200: RevokedReply })
    }
  }, async (request) => {
    const current = request.session!
    const ids = await revokeUserSessions(app.deps, current.userId, 'logout_others', current.id)
    return { revoked: ids.length }
  })
}

export default sessionsRoutes
