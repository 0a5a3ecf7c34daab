import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { replies } from '../schemas.js'
import { revokeSession } from '../sessions/revoke.js'

const ConsentView = Type.Object({ client_id: Type.String(), client_name: Type.String(), scope: Type.String(), granted_at: Type.String({ format: 'date-time' }) })

/**
 * First-party: a user sees the applications they allowed and withdraws consent.
 * Withdrawing also ends every grant (session) of that client for the user, through
 * the one revocation path, so its tokens die at the verifiers too.
 */
const consentRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const deps = app.deps

  app.get('/auth/consents', {
    onRequest: app.requireSession(),
    schema: { response: replies({ 200: Type.Object({ consents: Type.Array(ConsentView) }) }) }
  }, async (request) => {
    const list = await deps.store.listConsents(request.session!.userId)
    return {
      consents: list.map((c) => ({
        client_id: c.clientId,
        client_name: deps.clients.get(c.clientId)?.name ?? c.clientId,
        scope: c.scope,
        granted_at: new Date(c.grantedAt).toISOString()
      }))
    }
  })

  app.delete('/auth/consents/:client_id', {
    onRequest: app.requireSession(),
    schema: {
      params: Type.Object({ client_id: Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' }) }),
      response: replies({ 200: Type.Object({ revoked: Type.Integer({ minimum: 0 }) }) })
    }
  }, async (request) => {
    const userId = request.session!.userId
    const clientId = request.params.client_id
    await deps.store.deleteConsent(userId, clientId)
    let revoked = 0
    for (const s of await deps.store.listUserSessions(userId, deps.now())) {
      if (s.clientId === clientId && await revokeSession(deps, s.id, 'consent_withdrawn')) revoked += 1
    }
    return { revoked }
  })
}

export default consentRoutes
