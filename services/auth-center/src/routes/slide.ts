import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { createVerifier, TokenError } from '@authcenter/verifier'
import { FINGERPRINT_COOKIE, readCookie } from '@authcenter/verifier/dpop'
import { presentedToken } from '../auth/resource-token.js'
import { TokenReply, replies } from '../schemas.js'
import { slideSession } from '../sessions/slide.js'

/** How long after its expiry a sliding token may still be renewed (a phone waking up late). */
export const SLIDE_TOLERANCE_SECONDS = 30

const Body = Type.Union([
  Type.Object({ token: Type.Optional(Type.String({ minLength: 1, maxLength: 8192 })) }, { additionalProperties: false }),
  Type.Null()
])

/**
 * POST /auth/slide: renews a sliding-session token, sent as `Authorization: Bearer`
 * (or `DPoP`) or as `{token}`. The same checks as any verifier, with a small
 * tolerance on `exp`, then the session's own bounds (sessions/slide.ts).
 */
const slideRoute: FastifyPluginAsyncTypebox = async (app) => {
  const { config, keys } = app.deps
  const verify = createVerifier({
    issuer: config.issuer,
    audience: config.audience,
    jwksUri: `${config.issuer}/.well-known/jwks.json`,
    clockTolerance: SLIDE_TOLERANCE_SECONDS,
    cooldownDuration: 0,
    fetch: async () => new Response(JSON.stringify(keys.jwks()), { headers: { 'content-type': 'application/json' } }),
    // DPoP proofs here are single use across replicas too: marked in the store.
    dpop: { replay: { checkAndMark: async (key, expiresAtMs) => await app.deps.store.markOnce(`dpop:${key}`, Math.max(1, expiresAtMs - app.deps.now())) } }
  })
  app.addHook('onClose', async () => { verify.close() })

  app.post('/auth/slide', {
    schema: { body: Type.Optional(Body), response: replies({ 200: TokenReply }) }
  }, async (request, reply) => {
    const fromHeader = presentedToken(request.headers.authorization)
    // A token in the body counts as Bearer: a DPoP-bound one must come with the DPoP scheme.
    const scheme = fromHeader?.scheme ?? 'bearer'
    const token = fromHeader?.token ?? request.body?.token
    let auth
    try {
      // A bound token renews only on the device it is bound to, checked as any verifier does:
      // DPoP-bound, the DPoP scheme and a proof for this request (htu = the issuer URL, ath);
      // cookie-bound, its fingerprint cookie.
      auth = await verify(token, {
        scheme,
        dpop: { proof: request.headers.dpop, method: 'POST', url: `${config.issuer}/auth/slide` },
        fingerprint: readCookie(request.headers.cookie, FINGERPRINT_COOKIE)
      })
    } catch (err) {
      if (!(err instanceof TokenError)) throw err
      const description = err.message.replace(/"/g, "'")
      reply.header('www-authenticate', err.code === 'INVALID_DPOP_PROOF'
        ? `DPoP error="invalid_dpop_proof", error_description="${description}", algs="ES256 EdDSA RS256 PS256"`
        : `Bearer error="invalid_token", error_description="${description}"`)
      return reply.code(err.statusCode).send({ statusCode: err.statusCode, code: err.code, error: 'Unauthorized', message: err.message })
    }
    reply.header('cache-control', 'no-store')
    return slideSession(app.deps, auth)
  })
}

export default slideRoute
