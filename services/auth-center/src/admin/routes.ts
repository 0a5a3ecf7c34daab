import { createHash, timingSafeEqual } from 'node:crypto'
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { AdminForbiddenError, AdminUnauthorizedError, SessionNotFoundError, UserNotFoundError } from '../errors.js'
import { replies } from '../schemas.js'
import { revokeSession, revokeUserSessions } from '../sessions/revoke.js'
import { AdminSessionView, SessionId, viewSession } from '../sessions/view.js'
import { presentedToken, resourceChallenge } from '../auth/resource-token.js'
import { adminTokenVerdict } from './admin-token.js'
import { adminClientRoutes } from './clients.js'
import { adminEventRoutes } from './events.js'
import { audit } from '../auth/audit.js'

export interface AdminOptions {
  /**
   * AUTH_ADMIN_TOKEN. The app registers this plugin when it is set, or when the
   * clients file has a client allowed the `admin` scope (then only admin-scope
   * access tokens get in).
   */
  token?: string
}

const UserParams = Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9._:-]{1,128}$' }) })
const SessionParams = Type.Object({ id: SessionId })

const sha256 = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest()

/**
 * The admin API. Two Bearer credentials get in:
 * - AUTH_ADMIN_TOKEN (when set). The presented value and the configured one are
 *   compared as SHA-256 digests with timingSafeEqual: equal-length buffers whatever
 *   was sent, so neither the content nor the length of the credential leaks.
 * - an access token with scope `admin` from the client credentials grant
 *   (admin-token.ts): own key ring, session live, client still registered with `admin`.
 * Missing or wrong: 401 ADMIN_UNAUTHORIZED with WWW-Authenticate: Bearer; a good
 * client-credentials token without `admin`: 403 ADMIN_FORBIDDEN (insufficient_scope).
 * Every revocation goes through sessions/revoke.ts (reason 'admin').
 */
const adminRoutes: FastifyPluginAsyncTypebox<AdminOptions> = async (app, opts) => {
  if (opts.token !== undefined && (typeof opts.token !== 'string' || opts.token === '')) throw new TypeError('admin routes: token must be a non-empty string')
  const expected = opts.token === undefined ? undefined : sha256(opts.token)

  // Which credential got a request in, for the audit log's `actor`.
  const byAdminToken = new WeakSet<FastifyRequest>()
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const presented = presentedToken(request.headers.authorization)
    if (presented === undefined) {
      reply.header('www-authenticate', 'Bearer realm="admin"')
      throw new AdminUnauthorizedError()
    }
    const staticOk = presented.scheme === 'bearer' && expected !== undefined && timingSafeEqual(sha256(presented.token), expected)
    if (staticOk) byAdminToken.add(request)
    if (!staticOk) {
      const verdict = await adminTokenVerdict(app.deps, request, presented)
      if (typeof verdict === 'object') {
        // A DPoP-bound admin token as Bearer, or without a good proof (RFC 9449 §7.1).
        if (verdict.code === 'USE_DPOP_NONCE' && verdict.nonce !== undefined) reply.header('dpop-nonce', verdict.nonce)
        reply.header('www-authenticate', resourceChallenge('admin', verdict))
        throw new AdminUnauthorizedError()
      }
      if (verdict === 'insufficient_scope') {
        reply.header('www-authenticate', 'Bearer realm="admin", error="insufficient_scope", scope="admin"')
        throw new AdminForbiddenError()
      }
      if (verdict !== 'ok') {
        reply.header('www-authenticate', 'Bearer realm="admin", error="invalid_token"')
        throw new AdminUnauthorizedError()
      }
    }
    reply.header('cache-control', 'no-store')
  })

  // Every change made through the admin API is in the audit log (reads are not: they change nothing).
  app.addHook('onResponse', async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.method === 'GET' || request.method === 'HEAD' || reply.statusCode >= 400) return
    const params = request.params as { id?: string } | undefined
    await audit(app.deps, {
      type: 'admin_action', ip: request.clientIp, reason: `${request.method} ${request.routeOptions.url ?? request.url}`,
      actor: byAdminToken.has(request) ? 'admin-token' : 'admin-scope-client', detail: { id: params?.id ?? null, status: reply.statusCode }
    })
  })

  adminClientRoutes(app)
  adminEventRoutes(app)

  async function mustExist (userId: string): Promise<void> {
    if (await app.deps.store.getUser(userId) === null) throw new UserNotFoundError()
  }

  /** Every session of the user ends; ONE user-level denylist entry covers all their tokens. */
  app.post('/admin/users/:id/logout', {
    schema: { params: UserParams, response: replies({ 200: Type.Object({ revoked: Type.Integer({ minimum: 0 }) }) }) }
  }, async (request) => {
    await mustExist(request.params.id)
    const ids = await revokeUserSessions(app.deps, request.params.id, 'admin')
    return { revoked: ids.length }
  })

  app.delete('/admin/sessions/:id', {
    schema: { params: SessionParams, response: replies({ 204: Type.Null() }) }
  }, async (request, reply) => {
    // Idempotent: an already revoked session answers 204 again; an unknown one 404.
    if (!(await revokeSession(app.deps, request.params.id, 'admin'))) throw new SessionNotFoundError()
    return reply.code(204).send(null)
  })

  app.get('/admin/users/:id/sessions', {
    schema: { params: UserParams, response: replies({ 200: Type.Object({ sessions: Type.Array(AdminSessionView) }) }) }
  }, async (request) => {
    await mustExist(request.params.id)
    const sessions = await app.deps.store.listUserSessions(request.params.id, app.deps.now())
    return { sessions: sessions.map((s) => ({ ...viewSession(s), user_id: s.userId })) }
  })

  /** Refused refreshes from another device, replays, changed IPs: newest first. */
  app.get('/admin/users/:id/risk-events', {
    schema: { params: UserParams, response: replies({ 200: Type.Object({ events: Type.Array(RiskEventView) }) }) }
  }, async (request) => {
    await mustExist(request.params.id)
    const events = await app.deps.store.listRiskEvents(request.params.id)
    return {
      events: events.map((e) => ({
        at: new Date(e.at).toISOString(),
        user_id: e.userId,
        session_id: e.sessionId ?? null,
        client_id: e.clientId ?? null,
        ip: e.ip ?? null,
        user_agent: e.userAgent ?? null,
        reason: e.reason,
        refused: e.refused
      }))
    }
  })
}

const Nullable = (t: ReturnType<typeof Type.String>) => Type.Union([t, Type.Null()])
const RiskEventView = Type.Object({
  at: Type.String(),
  user_id: Type.String(),
  session_id: Nullable(Type.String()),
  client_id: Nullable(Type.String()),
  ip: Nullable(Type.String()),
  user_agent: Nullable(Type.String()),
  reason: Type.String(),
  refused: Type.Boolean()
})

export default adminRoutes
