import fp from 'fastify-plugin'
import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify'
import { createVerifier } from '@authcenter/verifier'
import verifierPlugin from '@authcenter/verifier/fastify'
import { FirstPartyOnlyError, SessionRevokedError } from '../errors.js'
import { sessionKind } from '../sessions/kind.js'
import type { Session } from '../store/store.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** onRequest hook: a valid access token of a session that is still live. */
    requireSession: () => onRequestAsyncHookHandler
  }
  interface FastifyRequest {
    session: Session | null
  }
}

/**
 * The auth center checks its own access tokens with the same verifier every other
 * service uses, fed from its key ring instead of over HTTP, and then also asks the
 * store whether the session is still live (it has the store at hand; other services
 * learn of revocations through the denylist feed).
 */
export default fp(async (app) => {
  const { config, keys } = app.deps
  const jwksUri = `${config.issuer}/.well-known/jwks.json`
  const verifier = createVerifier({
    issuer: config.issuer,
    audience: config.audience,
    jwksUri,
    fetch: async () => new Response(JSON.stringify(keys.jwks()), { headers: { 'content-type': 'application/json' } }),
    // The key ring is in this process: refetching on an unknown kid costs nothing.
    cooldownDuration: 0,
    // DPoP proofs at our own endpoints are single use across replicas: the store marks them (one atomic SET NX).
    dpop: { replay: { checkAndMark: async (key, expiresAtMs) => await app.deps.store.markOnce(`dpop:${key}`, Math.max(1, expiresAtMs - app.deps.now())) } }
  })
  app.addHook('onClose', async () => { verifier.close() })
  // A proof's htu is the issuer's URL + the path (what clients are told), never the Host header.
  await app.register(verifierPlugin, { verifier, publicUrl: config.issuer })
  app.decorateRequest('session', null)

  app.decorate('requireSession', () => {
    // The verifier's hook answers refusals itself (401 with WWW-Authenticate) and returns the reply.
    const authenticate = app.authenticate() as unknown as (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>
    return async function requireSession (request: FastifyRequest, reply: FastifyReply) {
      await authenticate.call(app, request, reply)
      if (reply.sent) return
      // The session APIs are the user's own: only a token that proves it is first-party
      // (ac_kind) reaches them, and only of a session that is one, whatever its client's
      // registration says now (a client removed from the clients file leaves its grants third-party).
      if (request.auth?.kind !== 'first-party') throw new FirstPartyOnlyError()
      const sid = request.auth.sid
      const session = sid === undefined ? null : await app.deps.store.getSession(sid)
      if (session === null || session.revokedAt !== undefined || session.userId !== request.auth.sub) {
        throw new SessionRevokedError()
      }
      if (sessionKind(session, app.deps.clients) !== 'first-party') throw new FirstPartyOnlyError()
      request.session = session
    }
  })
}, { name: 'authcenter-bearer', fastify: '5.x' })
