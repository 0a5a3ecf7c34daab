import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { createVerifier, TokenError } from '@authcenter/verifier'
import { FINGERPRINT_COOKIE, fingerprintMatches, readCookie } from '@authcenter/verifier/dpop'
import { dpopProof } from '../auth/binding.js'
import { requestFacts } from '../auth/request-facts.js'
import { TokenBindingMismatchError } from '../errors.js'
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
    fetch: async () => new Response(JSON.stringify(keys.jwks()), { headers: { 'content-type': 'application/json' } })
  })
  app.addHook('onClose', async () => { verify.close() })

  app.post('/auth/slide', {
    schema: { body: Type.Optional(Body), response: replies({ 200: TokenReply }) }
  }, async (request, reply) => {
    const header = request.headers.authorization
    const fromHeader = header === undefined ? undefined : /^(?:Bearer|DPoP) +(\S+)$/i.exec(header)?.[1]
    const token = fromHeader ?? request.body?.token
    let auth
    try {
      auth = await verify(token)
    } catch (err) {
      if (!(err instanceof TokenError)) throw err
      reply.header('www-authenticate', `Bearer error="invalid_token", error_description="${err.message.replace(/"/g, "'")}"`)
      return reply.code(err.statusCode).send({ statusCode: err.statusCode, code: err.code, error: 'Unauthorized', message: err.message })
    }
    // A bound token renews only on the device it is bound to.
    const cnf = auth.claims.cnf as { jkt?: string, fgp?: string } | undefined
    const facts = requestFacts(request)
    if (cnf?.jkt !== undefined) await dpopProof(app.deps, facts, '/auth/slide', cnf.jkt)
    if (cnf?.fgp !== undefined && !fingerprintMatches(readCookie(facts.cookie, FINGERPRINT_COOKIE), cnf.fgp)) {
      throw new TokenBindingMismatchError()
    }
    reply.header('cache-control', 'no-store')
    return slideSession(app.deps, auth)
  })
}

export default slideRoute
