import type { FastifyReply, FastifyRequest } from 'fastify'
import { challenge, TokenError } from '@authcenter/verifier/fastify'

/**
 * Who may do what here. A first-party token (no `scope` claim: the user's own app,
 * logged in at the auth center) acts as the user. A third-party token (OAuth2, with a
 * `scope` claim) acts only within the scopes the user consented to: it needs the
 * route's scope, or the answer is 403 `insufficient_scope` (RFC 6750), like the
 * verifier's own scope check. Runs after `app.authenticate()`.
 */
export function delegatedScope (scope: string) {
  return async function checkDelegatedScope (request: FastifyRequest, reply: FastifyReply): Promise<void> {
    if (request.auth.claims.scope === undefined || request.auth.scope.includes(scope)) return
    const err = new TokenError('INSUFFICIENT_SCOPE', `the token lacks scope "${scope}"`)
    const header = challenge(err, undefined, [scope])
    if (header !== undefined) reply.header('www-authenticate', header)
    await reply.code(403).send({ statusCode: 403, code: err.code, error: 'Forbidden', message: err.message })
  }
}
